"""Serve MathJax 3 from the built book instead of a CDN.

Readers offline, and the browser tests (no network), still get typeset math. MathJax comes
from the PyPI package ``django-static-mathjax`` (plain static files, no dependencies; the
Django in its name is only where it is usually used). ``_config.yml`` points
``mathjax_path`` at ``mathjax/tex-mml-chtml.js``, which Sphinx resolves under ``_static/``;
this extension copies MathJax's ``es5`` bundle there when an HTML build finishes.
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


def setup(app):
    if not (mathjax_bundle() / "tex-mml-chtml.js").is_file():
        raise RuntimeError("MathJax not found: pip install django-static-mathjax (see requirements.txt)")
    app.connect("build-finished", _copy_bundle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
