"""Reading student notebooks: nbformat 4 JSON in, parsed Python code cells out.

Nothing here executes student code. IPython syntax (``%magic``, ``!shell``, ``%%cell``
magics) is turned into plain Python the way IPython itself does, so a cell with a magic
still parses; those lines become ``get_ipython()`` calls, which the grader never runs.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
METADATA_KEY = "pg_course"  # notebook metadata: {"pg_course": {"chapter": "01_log_derivative_trick"}}

# Cell magics whose body is ordinary Python run in the user namespace.
_PYTHON_BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun"}


class NotebookError(Exception):
    """A notebook that cannot be graded at all. The message is one line for the student."""


@dataclass
class CodeCell:
    index: int  # 0-based position among all cells of the notebook
    source: str  # as the student wrote it
    python: str  # IPython syntax turned into Python; same number of lines as ``source``
    tree: ast.Module | None = None
    syntax_error: str | None = None

    @property
    def label(self) -> str:
        return f"cell {self.index + 1}"


@dataclass
class Notebook:
    cells: list[CodeCell]
    metadata: dict = field(default_factory=dict)
    path: Path | None = None
    raw: dict | None = None  # the JSON document, for `fill`

    @property
    def declared_chapter(self) -> str | None:
        course = self.metadata.get(METADATA_KEY)
        if isinstance(course, dict) and isinstance(course.get("chapter"), str):
            return course["chapter"]
        return None


def load_notebook(path: str | Path) -> Notebook:
    """Read and parse a notebook file, or raise NotebookError with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"{path}: no such file")
    if path.is_dir():
        raise NotebookError(f"{path}: is a folder, not a notebook")
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise NotebookError(f"{path}: {size // 2**20} MiB is too large for a notebook")
        data = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise NotebookError(f"{path}: the file is empty, not a notebook")
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a notebook (the file is not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{path}: not a notebook (invalid JSON at line {exc.lineno}: {exc.msg}; "
            "the file may be truncated)"
        ) from None
    except (RecursionError, ValueError, MemoryError):
        raise NotebookError(
            f"{path}: not a notebook (its JSON is nested too deeply or holds a number too large to read)"
        ) from None
    return parse_notebook(doc, path)


def parse_notebook(doc: object, path: Path | None = None) -> Notebook:
    where = f"{path}: " if path else ""
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        if isinstance(doc, dict) and isinstance(doc.get("worksheets"), list):
            raise NotebookError(
                f"{where}nbformat {doc.get('nbformat', 3)} notebook; open and save it in a current "
                "Jupyter to convert it to version 4"
            )
        raise NotebookError(f"{where}not a Jupyter notebook (no list of cells)")
    version = doc.get("nbformat")
    if version != 4:
        raise NotebookError(
            f"{where}nbformat {version} is not supported; open and save it in a current Jupyter "
            "to convert it to version 4"
        )
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    cells = []
    for index, cell in enumerate(doc["cells"]):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cells.append(make_code_cell(index, cell_source(cell)))
    return Notebook(cells=cells, metadata=metadata, path=path, raw=doc)


def notebook_from_sources(sources: list[str]) -> Notebook:
    """A notebook made of code cells only, e.g. a kernel's input history."""
    return Notebook(cells=[make_code_cell(i, s) for i, s in enumerate(sources)])


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def make_code_cell(index: int, source: str) -> CodeCell:
    python = ipython_to_python(source)
    cell = CodeCell(index=index, source=source, python=python)
    try:
        cell.tree = ast.parse(python, filename=cell.label)
    except SyntaxError as exc:
        cell.syntax_error = f"line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:  # e.g. NUL bytes, absurd nesting
        cell.syntax_error = f"cannot be parsed ({type(exc).__name__})"
    return cell


_MAGIC_LINE = re.compile(r"^(\s*)(%|!)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*[\w.,\s]+=\s*)(%|!)")
_HELP_LINE = re.compile(r"^\s*[\w.]*\?\??\s*$|^\s*\?\??[\w.]+\s*$")


def ipython_to_python(source: str) -> str:
    """Turn IPython-only syntax into Python without changing the number of lines.

    ``%line magic`` and ``!shell`` (also after ``x =``) become calls to ``get_ipython()``,
    ``obj?`` help lines become ``pass``, and a leading ``%%cell`` magic either exposes its
    Python body (``%%time``, ``%%capture``...) or turns the whole cell into a string.
    """
    try:
        ast.parse(source)
        return source  # plain Python: nothing to turn (and no risk of touching strings)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    lines = source.split("\n")
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].strip()[2:].split(maxsplit=1)[0] if lines[0].strip()[2:] else ""
        if magic in _PYTHON_BODY_CELL_MAGICS:
            lines[0] = ""
        else:
            body = "\n".join(lines[1:])
            return f"get_ipython().run_cell_magic({magic!r}, '', {body!r})" + "\n" * (len(lines) - 1)
    out = []
    continuation = False
    for line in lines:
        if not continuation:
            match = _MAGIC_LINE.match(line) or _ASSIGNED_MAGIC.match(line)
            if match:
                head = match.group(1)
                rest = line[match.end(1):]
                kind = "system" if rest.startswith("!") else "run_line_magic"
                # A trailing backslash continues a magic onto the next line: blank that one too.
                continuation = rest.rstrip().endswith("\\")
                line = f"{head}get_ipython().{kind}({rest.rstrip().rstrip(chr(92))!r})"
            elif _HELP_LINE.match(line) and line.strip() not in ("", "?"):
                line = re.sub(r"\S.*", "pass", line)
        else:
            continuation = line.rstrip().endswith("\\")
            line = ""
        out.append(line)
    return "\n".join(out)


_DEF_LINE = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.M)


def defined_names(cell: CodeCell) -> list[str]:
    """Names a cell binds at top level by ``def`` or ``class``, in order. A cell that does not
    parse is read line by line, so a syntax error does not hide what it defines."""
    if cell.tree is None:
        return _DEF_LINE.findall(cell.source)
    return [
        node.name
        for node in cell.tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
