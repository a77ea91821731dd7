"""The course's website (``make site``): built from the real notebooks, opened in headless Chromium.

The build executes every notebook (several minutes). Set ``MLOPS_COURSE_SITE_HTML`` to the
``html`` folder of an earlier build (``site/_build/html`` after ``make site``) to check that one
instead while working on the site.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "site" / "build.py"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BUILD_TIMEOUT = 45 * 60  # seconds; about 8 min on a 2-core machine


def title_of(notebook: Path) -> str:
    """A notebook's title: its first Markdown heading, as the site shows it."""
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise AssertionError(f"{notebook.name} has no '# ' title")


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BUILD), *args],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="module")
def site_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site's html folder: built once per test session (every notebook executed)."""
    if reuse := os.environ.get("MLOPS_COURSE_SITE_HTML"):
        return Path(reuse)
    out = tmp_path_factory.mktemp("site")
    done = run_build("--out", str(out))
    assert done.returncode == 0, f"site build failed:\n{tail(done.stdout + done.stderr)}"
    return out / "html"


@pytest.fixture(scope="module")
def base_url(site_html: Path) -> Iterator[str]:
    """The site served on 127.0.0.1 (a free port), as a static host would serve it."""
    handler = functools.partial(_QuietHandler, directory=str(site_html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: apt-get install chromium (Debian's package)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """A browser page that records every request leaving the site and every failed one."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.outside: list[str] = []
        self.failed: list[str] = []
        page.on("request", self._on_request)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", self._on_response)

    def _on_request(self, request) -> None:
        if not request.url.startswith((self.base_url, "data:", "about:")):
            self.outside.append(request.url)

    def _on_response(self, response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.url} (HTTP {response.status})")

    def open(self, path: str) -> None:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None and response.ok, f"{path}: not on the site"

    def assert_complete(self) -> None:
        """Nothing was fetched from elsewhere (the site works offline), nothing failed to load,
        and no image on the page is broken."""
        assert self.outside == [], f"requests leaving the site: {self.outside}"
        assert self.failed == [], f"failed requests: {self.failed}"
        broken = self.page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        assert broken == [], f"broken images: {broken}"


@pytest.fixture
def visit(browser, base_url: str) -> Iterator[Visit]:
    context = browser.new_context()
    # Only the site itself answers: anything else is aborted (and reported by Visit).
    context.route("**/*", lambda route: _local_only(route, base_url))
    context.set_default_timeout(15_000)  # a missing element fails in seconds, not 30 s each
    page = context.new_page()
    try:
        yield Visit(page, base_url)
    finally:
        context.close()


def _local_only(route, base_url: str) -> None:
    if route.request.url.startswith(base_url):
        route.continue_()
    else:
        route.abort()


def page_title(visit: Visit) -> str:
    """The page's main heading without its permalink mark."""
    return visit.page.locator("article h1").first.evaluate(
        "h => Array.from(h.childNodes).filter(n => !(n.classList && "
        "n.classList.contains('headerlink'))).map(n => n.textContent).join('').trim()"
    )


def test_there_are_notebooks_to_publish():
    assert len(NOTEBOOKS) >= 6, [n.name for n in NOTEBOOKS]


def test_home_page_is_the_readme_and_links_every_notebook(visit: Visit):
    visit.open("index.html")
    readme_title = (ROOT / "README.md").read_text().splitlines()[0].removeprefix("# ").strip()
    assert page_title(visit) == readme_title
    assert readme_title in visit.page.title()
    # A sentence from the README's body and its modules table are on the page.
    body = visit.page.locator("article").inner_text()
    assert "Two commands" in body and "graded exercises" in body
    assert visit.page.locator("article table").count() >= 1
    for notebook in NOTEBOOKS:
        link = visit.page.locator(f'article a[href$="notebooks/{notebook.stem}.html"]')
        assert link.count() >= 1, f"the home page does not link {notebook.name}"
        assert title_of(notebook) in link.first.inner_text()
        sidebar = visit.page.locator(f'nav a[href$="notebooks/{notebook.stem}.html"]')
        assert sidebar.count() >= 1, f"the sidebar does not list {notebook.name}"
    visit.assert_complete()


def test_notebook_page_shows_code_outputs_and_figures(visit: Visit):
    notebook = next(n for n in NOTEBOOKS if n.name.startswith("01_"))
    visit.open(f"notebooks/{notebook.stem}.html")
    assert page_title(visit) == title_of(notebook)
    code = visit.page.locator("div.cell_input pre")
    assert code.count() >= 10
    assert "mlops_course.setup()" in code.first.inner_text()
    # The setup cell's printed output, from the executed run the site was built from.
    outputs = visit.page.locator("div.cell_output")
    assert outputs.count() >= 10
    assert "MLflow tracking server: http://127.0.0.1:" in visit.page.locator("article").inner_text()
    # Tables (pandas' HTML) and figures (matplotlib's PNGs) rendered, each image really decoded.
    assert visit.page.locator("div.cell_output table.dataframe").count() >= 1
    figures = visit.page.locator("div.cell_output img")
    assert figures.count() >= 1, "no figure among the notebook's outputs"
    sizes = figures.evaluate_all(
        "imgs => imgs.map(i => ({src: i.src, complete: i.complete, w: i.naturalWidth}))"
    )
    for size in sizes:
        assert size["src"].endswith(".png"), size
        assert size["complete"] and size["w"] > 100, f"figure did not load: {size}"
    # No cell failed: a build with an error never gets this far, and no traceback is shown.
    assert visit.page.locator("div.cell_output .output.traceback").count() == 0
    visit.assert_complete()


def test_every_notebook_page_renders_its_images(visit: Visit):
    images = 0
    for notebook in NOTEBOOKS:
        visit.open(f"notebooks/{notebook.stem}.html")
        assert page_title(visit) == title_of(notebook)
        images += visit.page.locator("div.cell_output img").count()
        visit.assert_complete()
    assert images >= 3


def test_previous_next_and_sidebar_navigation(visit: Visit):
    first, second, third = NOTEBOOKS[:3]
    visit.open("index.html")
    visit.page.locator("a.right-next").click()
    visit.page.wait_for_load_state()
    assert page_title(visit) == title_of(first)
    visit.page.locator("a.right-next").click()
    visit.page.wait_for_load_state()
    assert page_title(visit) == title_of(second)
    assert visit.page.url.endswith(f"notebooks/{second.stem}.html")
    visit.page.locator("a.left-prev").click()
    visit.page.wait_for_load_state()
    assert page_title(visit) == title_of(first)
    # The sidebar's table of contents leads to any module, and back home.
    last = NOTEBOOKS[-1]
    visit.page.locator(f'nav.bd-docs-nav a[href$="{last.stem}.html"]').click()
    visit.page.wait_for_load_state()
    assert page_title(visit) == title_of(last)
    assert visit.page.locator("a.right-next").count() == 0  # the last module has no "next"
    visit.page.locator("a.left-prev").click()
    visit.page.wait_for_load_state()
    assert page_title(visit) == title_of(NOTEBOOKS[-2])
    visit.page.locator(f'nav.bd-docs-nav a[href$="{third.stem}.html"]').click()
    visit.page.wait_for_load_state()
    assert page_title(visit) == title_of(third)
    # On this page: the notebook's own sections, each link to an anchor that exists.
    anchors = visit.page.locator("nav.bd-toc-nav a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert len(anchors) >= 3
    for anchor in anchors:
        assert anchor.startswith("#")
        assert visit.page.locator(f'[id="{anchor[1:]}"]').count() == 1, anchor
    visit.assert_complete()


def test_build_fails_loudly_when_a_cell_raises(tmp_path: Path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Broken"),
        nbformat.v4.new_code_cell("print('this cell works')"),
        nbformat.v4.new_code_cell("raise ValueError('this cell fails on purpose')"),
    ]
    nbformat.write(notebook, folder / "99_broken.ipynb")
    readme = tmp_path / "README.md"
    readme.write_text("# A tiny course\n\nOne broken notebook.\n")
    out = tmp_path / "out"
    done = run_build("--notebooks", str(folder), "--readme", str(readme), "--out", str(out))
    output = ANSI.sub("", done.stdout + done.stderr)  # the kernel colours its tracebacks
    assert done.returncode == 1, tail(output)
    assert "ValueError: this cell fails on purpose" in output
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("site FAILED") and "99_broken.ipynb" in last, last
    assert "ValueError: this cell fails on purpose" in last, last
    assert not (out / "html" / "notebooks" / "99_broken.html").exists()
    # The build stopped the server it started, and left no course home behind.
    assert "Stopped the MLflow server" in done.stdout
    home = next(line for line in done.stdout.splitlines() if "course home" in line)
    assert not Path(home.rsplit("course home ", 1)[1].rstrip(")")).exists()


def test_build_refuses_an_empty_notebooks_folder(tmp_path: Path):
    done = run_build("--notebooks", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "no notebooks" in done.stdout
