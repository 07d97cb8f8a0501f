"""The built book in a real browser: headless Chromium (Debian's), driven by Playwright.

Every page of the book is served from localhost and loaded with no network beyond it. On
each page: no console errors and no failed requests; math typeset by MathJax (no raw
``$$`` left in the text); every image loaded; every solution dropdown opens on a click and
shows code; every internal link (and its #anchor) resolves. Screenshots of a few pages are
saved to ``artifacts/screenshots/`` for people to look at.

The test setup (``make test``) installs Debian's ``chromium`` when it is missing. Playwright's
own browser download is not used.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "artifacts" / "screenshots"
SCREENSHOT_PAGES = ("intro.html", "chapters/01_log_derivative_trick.html", "chapters/03_score_function_estimator.html")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"]


def _no_browser_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (make test installs Debian's chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


if _no_browser_reason() and os.environ.get("CI"):
    raise RuntimeError(f"the browser test cannot run in CI: {_no_browser_reason()}")
pytestmark = [pytestmark, pytest.mark.skipif(bool(_no_browser_reason()), reason=str(_no_browser_reason()))]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The built book served on a free localhost port."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", built_book
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield launched
        launched.close()


def _pages(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.html") if "_static" not in p.parts)


def _visit(browser, url: str):
    """Load a page; return it with the console errors and failed requests seen on the way."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    if page.evaluate("() => Boolean(window.MathJax && MathJax.startup && MathJax.startup.promise)"):
        page.evaluate("() => MathJax.startup.promise")
    return page, problems


def test_every_page_loads_cleanly_with_math_and_images(site, browser):
    base, root = site
    pages = _pages(root)
    assert len(pages) >= 5, pages
    report = {}
    for name in pages:
        page, problems = _visit(browser, base + name)
        text = page.inner_text("body")
        if "$$" in text:
            problems.append("raw $$ left in the text: math not typeset")
        has_math = page.locator(".math, span.math, div.math").count() > 0
        if has_math and page.locator("mjx-container").count() == 0:
            problems.append("the page has math but MathJax typeset none of it")
        broken = page.evaluate("() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        problems += [f"image did not load: {src}" for src in broken]
        if problems:
            report[name] = problems
        page.close()
    assert not report, report
    print(f"{len(pages)} pages checked")


def test_every_solution_dropdown_opens_and_shows_code(site, browser):
    base, root = site
    opened = 0
    for name in (p for p in _pages(root) if p.startswith("chapters/")):
        page, _ = _visit(browser, base + name)
        dropdowns = page.locator("div.solution.dropdown")
        for i in range(dropdowns.count()):
            dropdown = dropdowns.nth(i)
            code = dropdown.locator("pre").first
            assert not code.is_visible(), f"{name}: solution {i + 1} is open before any click"
            dropdown.locator(".admonition-title").first.click()
            code.wait_for(state="visible", timeout=5000)
            assert "def " in code.inner_text() or "class " in code.inner_text(), f"{name}: solution {i + 1} shows no code"
            opened += 1
        page.close()
    assert opened >= 3
    print(f"{opened} solution dropdowns opened")


def test_every_internal_link_resolves(site, browser):
    base, root = site
    targets: dict[str, set[str]] = {}
    for name in _pages(root):
        page, _ = _visit(browser, base + name)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            if urlparse(href).netloc == urlparse(base).netloc:
                url, anchor = urldefrag(href)
                targets.setdefault(url, set()).add(anchor)
        page.close()
    missing = []
    for url, anchors in sorted(targets.items()):
        path = root / urlparse(url).path.lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if not path.exists():
            missing.append(f"{url}: no such file")
            continue
        if path.suffix == ".html" and any(anchors - {""}):
            page = browser.new_page()
            page.goto(url, wait_until="domcontentloaded")
            for anchor in sorted(anchors - {""}):
                if page.locator(f'[id="{anchor}"], [name="{anchor}"]').count() == 0:
                    missing.append(f"{url}#{anchor}: no such anchor")
            page.close()
    assert not missing, missing
    print(f"{len(targets)} internal link targets resolved")


def test_screenshots_of_a_few_pages(site, browser):
    base, _ = site
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in SCREENSHOT_PAGES:
        page, _ = _visit(browser, urljoin(base, name))
        page.set_viewport_size({"width": 1280, "height": 900})
        target = ARTIFACTS / (Path(name).stem + ".png")
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 20_000, f"{target} looks empty"
        page.close()
