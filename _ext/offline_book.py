"""Make the built book work with no network: MathJax served locally, no thebe.

1. MathJax 3 is served from the built book instead of a CDN, so readers offline, and the
browser tests (no network), still get typeset math. MathJax comes
from the PyPI package ``django-static-mathjax`` (plain static files, no dependencies; the
Django in its name is only where it is usually used). ``_config.yml`` points
``mathjax_path`` at ``mathjax/tex-mml-chtml.js``, which Sphinx resolves under ``_static/``;
this extension copies MathJax's ``es5`` bundle there when an HTML build finishes.

2. Jupyter Book 1 always loads sphinx-thebe (live code cells), which would fetch thebe from
a CDN on use and declares its configuration script twice (a JavaScript error on every page).
The course does not use live cells, so its scripts are left out of every page.
"""
from __future__ import annotations

import shutil
from pathlib import Path


def mathjax_bundle() -> Path:
    import mathjax  # the django-static-mathjax package

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _copy_bundle(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copytree(mathjax_bundle(), Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def _is_thebe(script) -> bool:
    source = str(getattr(script, "filename", "") or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return "thebe" in (source + body).lower()


def _drop_thebe(app, pagename, templatename, context, doctree) -> None:
    if context.get("script_files") is not None:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def setup(app):
    if not (mathjax_bundle() / "tex-mml-chtml.js").is_file():
        raise RuntimeError("MathJax not found: pip install django-static-mathjax (see requirements.txt)")
    app.connect("build-finished", _copy_bundle)
    app.connect("html-page-context", _drop_thebe)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
