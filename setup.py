"""Packaging shim; the project is configured in pyproject.toml.

The one thing pyproject.toml cannot express: ``hasten-fastapi-alias.pth`` must reach
site-packages in *editable* installs too. pyproject.toml declares it as a data file for the
wheel's ``purelib`` category (installers put it in site-packages), which regular wheels honour;
setuptools' editable wheels install data files only when the distribution answers ``has_data()``
(it asks for ``has_data``, while setuptools' own method is ``has_data_files``), hence this class.
"""

from setuptools import Distribution, setup


class _Distribution(Distribution):
    def has_data(self) -> bool:
        return bool(self.has_data_files())


setup(distclass=_Distribution)
