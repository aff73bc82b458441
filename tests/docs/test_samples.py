"""The docs site's code: every sample under docs/samples/ runs, and no page shows untested Python.

Samples (docs/samples/**/*.py; a name starting with ``_`` is a helper that samples import, not
run on its own). Each is imported from its file, with its own folder first on ``sys.path`` (so a
sample's test file can ``from main import app`` as a user's would), then:

* a module-level ``app`` is started with ``hasten.testclient.TestClient`` (its lifespan runs);
  a module-level ``check(client)`` is called with that client and asserts what the page says;
* module-level ``test_*`` functions (a page's "how to test it" sample) are called in order.

A sample with neither an ``app`` nor a ``test_*`` function fails: nothing would run it.

Pages: every Markdown page of the site (docs/**/*.md outside docs/samples/) is rendered with the
site's own Markdown extensions (mkdocs.yml, snippets included), and every highlighted Python
block in the result must be lines of a sample file, in order (indentation aside; snippet section
markers ignored). Code enters a page through ``--8<--`` includes of sample files, or, for text
included from the README, by being word for word in a sample.
"""

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hasten.compat._alias import find_finder, uninstall
from hasten.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SAMPLES_DIR = DOCS / "samples"
SAMPLES = sorted(p for p in SAMPLES_DIR.rglob("*.py") if not p.name.startswith("_"))
PAGES = sorted(p for p in DOCS.rglob("*.md") if SAMPLES_DIR not in p.parents)
PYTHON_LANGUAGES = {"python", "py", "python3", "py3"}
SNIPPET_MARKER = "--8<-- ["


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@contextmanager
def _imported(path: Path) -> Iterator[ModuleType]:
    """Import ``path`` as a fresh module; forget it (and the modules of its folder) afterwards."""
    name = "docs_sample_" + "_".join(path.relative_to(SAMPLES_DIR).with_suffix("").parts)
    modules_before = set(sys.modules)
    aliased_before = find_finder("fastapi") is not None
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(path.parent))
        for added in set(sys.modules) - modules_before:
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if added == name or Path(origin).is_relative_to(SAMPLES_DIR):
                del sys.modules[added]
        if not aliased_before and find_finder("fastapi") is not None:
            uninstall()  # a sample that installs the `fastapi` alias leaves none behind


def test_there_are_samples() -> None:
    assert any(p.parent.name == "getting_started" for p in SAMPLES), SAMPLES


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p.relative_to(SAMPLES_DIR)) for p in SAMPLES])
def test_sample_runs(path: Path) -> None:
    with _imported(path) as module:
        app = getattr(module, "app", None)
        tests = [f for n, f in vars(module).items() if n.startswith("test_") and callable(f)]
        assert app is not None or tests, (
            f"{_rel(path)} defines no module-level `app` and no `test_*` function: "
            "nothing runs it (see tests/docs/test_samples.py)"
        )
        if app is not None:
            check = getattr(module, "check", None)
            with TestClient(app) as client:
                if check is not None:
                    check(client)
        for test in tests:
            test()


# -- no untested Python on the site --------------------------------------------------------------


class _CodeBlocks(HTMLParser):
    """Collect (language, text) of the highlighted code blocks of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._language: str | None = None
        self._text: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._text is not None:
            return
        classes = (dict(attrs).get("class") or "").split()
        language = next((c[9:] for c in classes if c.startswith("language-")), None)
        if language is not None and self._language is None:
            self._language = language
        if tag == "code" and self._language is not None:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "code" and self._text is not None:
            assert self._language is not None
            self.blocks.append((self._language, "".join(self._text)))
            self._text = None
            self._language = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _markdown_config() -> tuple[list[Any], dict[str, Any]]:
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    return config["markdown_extensions"], config["mdx_configs"]


@pytest.fixture(scope="module")
def render() -> Any:
    import markdown

    extensions, configs = _markdown_config()

    def _render(page: Path) -> str:
        md = markdown.Markdown(extensions=extensions, extension_configs=configs)
        return md.convert(page.read_text(encoding="utf-8"))

    return _render


def _sample_lines() -> dict[Path, list[str]]:
    return {
        p: [
            line.rstrip()
            for line in p.read_text(encoding="utf-8").splitlines()
            if SNIPPET_MARKER not in line
        ]
        for p in sorted(SAMPLES_DIR.rglob("*.py"))
    }


def _found_in(block: str, samples: dict[Path, list[str]]) -> Path | None:
    want = textwrap.dedent(block).strip("\n").splitlines()
    want = [line.rstrip() for line in want]
    if not want:
        return None
    for path, lines in samples.items():
        for i, line in enumerate(lines):
            if line.strip() != want[0].strip():
                continue
            window = lines[i : i + len(want)]
            if textwrap.dedent("\n".join(window)).splitlines() == want:
                return path
    return None


def test_a_rendered_page_yields_its_python_blocks(render: Any, tmp_path: Path) -> None:
    # The parser sees what the site's Markdown makes of a fence (not a vacuous pass).
    page = tmp_path / "page.md"
    page.write_text("# T\n\n```python\nx = '<a>'\n```\n\n```bash\nls\n```\n", encoding="utf-8")
    parser = _CodeBlocks()
    parser.feed(render(page))
    assert parser.blocks == [("python", "x = '<a>'\n"), ("bash", "ls\n")]
    assert _found_in("x = '<a>'\n", _sample_lines()) is None


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_python_blocks_come_from_samples(page: Path, render: Any) -> None:
    parser = _CodeBlocks()
    parser.feed(render(page))
    samples = _sample_lines()
    untested = [
        text.strip().splitlines()[0] if text.strip() else "(empty block)"
        for language, text in parser.blocks
        if language.lower() in PYTHON_LANGUAGES and _found_in(text, samples) is None
    ]
    assert not untested, (
        f"{_rel(page)}: Python blocks that are not lines of a docs/samples file (include the "
        f"sample with --8<-- instead), starting with: {untested}"
    )
