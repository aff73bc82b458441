"""``python -m hasten``: the ``hasten`` command line."""

from hasten.cli import main

main()
