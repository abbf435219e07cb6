"""Scan executed notebooks for what would leak in an HTML export.

An HTML export shows every output of a notebook (publication mode hides code, not
outputs). :func:`scan_notebook` reads an executed ``.ipynb`` and reports, as
:class:`~o4o_causal.sdc.findings.Finding` records:

* displayed tables with identifier-like columns or index names (``identifier``), rows
  that look like persons (``person_rows``), counts of persons below the threshold
  (``threshold``), and ``describe()``-style minima/maxima (``min_max``);
* error outputs and tracebacks printed to stderr (``traceback``);
* images not marked by a disclosure-safe plotting function (``unsafe_image``, see
  :mod:`o4o_causal.sdc.figures`);
* embedded interactive JSON carrying data arrays (``interactive_data``);
* absolute file paths in parameter cells or output text (``path_parameter``).

``o4o check RUN_DIR`` runs :func:`scan_run` on a whole run.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from o4o_causal.exceptions import DataError, format_error
from o4o_causal.repro.notebooks import read_executed
from o4o_causal.sdc import _scan_tables as tables
from o4o_causal.sdc.figures import METADATA_KEY
from o4o_causal.sdc.findings import Finding, Severity

IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif", "image/webp", "application/pdf")
INTERACTIVE_MIMES = (
    "application/vnd.plotly.v1+json",
    "application/vnd.vega",
    "application/vnd.vegalite",
    "application/vnd.bokehjs",
    "application/vnd.holoviews",
    "application/vnd.jupyter.widget-state+json",
    "application/geo+json",
)
TEXT_MIMES = ("text/html", "text/markdown", "text/latex", "text/plain")
#: Numeric arrays at least this long in embedded JSON or scripts count as data.
MIN_ARRAY = 20
PARAMETER_TAGS = frozenset({"parameters", "injected-parameters"})

_POSIX_PATH = re.compile(r"(?<![\w.:/+~\\-])/(?:[\w.@-]+/)+[\w.@-]*")
_WINDOWS_PATH = re.compile(r"(?<![\w\\])(?:[A-Za-z]:\\|\\\\[\w.$-]+\\)[^\s\"'<>|]*")
_HOME_PATH = re.compile(r"(?<![\w/])~[\w.-]*/[\w./-]*")
_HOME_ROOTS = re.compile(r"^(?:/home/|/Users/|/root/|/export/home/|~|[A-Za-z]:\\Users\\|\\\\)", re.IGNORECASE)
_KERNEL_CELL_FILE = re.compile(r"^/tmp/ipykernel_\d+/\d+\.py$")
_LIBRARY = re.compile(r"/(?:site-packages|dist-packages)/|/lib/python3\.\d+/|^/usr/|^/opt/conda/")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_NUMBER_ARRAY = re.compile(r"\[\s*-?[\d.eE+-]+(?:\s*,\s*-?[\d.eE+-]+){" + str(MIN_ARRAY - 1) + r",}\s*\]")
_EMBED_CALL = re.compile(r"Plotly\.(?:newPlot|react)|vegaEmbed|Bokeh\.embed|\"bdata\"")
#: Images inside HTML/Markdown output: data-URI images (``<img>``, CSS, Markdown) and inline SVG.
_EMBEDDED_IMAGE = re.compile(r"data:image/|<svg\b", re.IGNORECASE)
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(|<img\b", re.IGNORECASE)


def _where(name: str, cell: int, output: int | None = None) -> str:
    return f"{name}, cell {cell}" + ("" if output is None else f", output {output}")


def _is_marked(output: dict[str, Any], mime: str) -> bool:
    """Whether an image output carries the safe mark of :mod:`o4o_causal.sdc.figures`."""
    metadata = output.get("metadata") or {}
    for holder in (metadata.get(mime), metadata):
        mark = holder.get(METADATA_KEY) if isinstance(holder, dict) else None
        if isinstance(mark, dict) and isinstance(mark.get("safe"), str) and mark["safe"]:
            return True
    return False


def _long_arrays(obj: Any) -> int:
    """Return the length of the longest list of numbers anywhere inside a JSON value."""
    if isinstance(obj, dict):
        return max((_long_arrays(v) for v in obj.values()), default=0)
    if isinstance(obj, list):
        numbers = sum(isinstance(v, int | float) and not isinstance(v, bool) for v in obj)
        return max([numbers, *(_long_arrays(v) for v in obj)])
    return 0


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def path_kind(path: str) -> str:
    """Classify an absolute path: ``"kernel"`` (a cell's temporary file), ``"library"`` or ``"data"``."""
    if _KERNEL_CELL_FILE.match(path):
        return "kernel"
    if _LIBRARY.search(path):
        return "library"
    return "data"


def find_paths(text: str) -> list[str]:
    """Return the absolute file paths (POSIX, Windows, UNC, ``~``) in ``text``."""
    text = _DATA_URI.sub("", text)
    found = [m.group(0) for pattern in (_POSIX_PATH, _WINDOWS_PATH, _HOME_PATH) for m in pattern.finditer(text)]
    return list(dict.fromkeys(p.rstrip(".,;:)]}'\"") for p in found))


def _output_paths(text: str, where: str) -> list[Finding]:
    """Paths in output text: errors, except library paths (warnings in warnings' headers, only below a home folder)."""
    findings: list[Finding] = []
    for path in find_paths(text):
        kind, home = path_kind(path), bool(_HOME_ROOTS.match(path))
        if kind == "kernel" or (kind == "library" and not home):
            continue
        severity: Severity = "warning" if kind == "library" else "error"  # a library below a home folder
        findings.append(
            Finding(
                "path_parameter",
                where,
                f"output shows the absolute path {path!r}, which can name users, projects or data files; "
                "print paths relative to the project root (or silence the warning that prints it)",
                severity,
            )
        )
    return findings[:3]


def _interactive(mime: str, value: Any, where: str) -> list[Finding]:
    """Interactive outputs (plotly, vega, bokeh, widget state) and JSON outputs with numeric arrays."""
    known = mime.startswith(INTERACTIVE_MIMES)
    if not (known or mime.endswith("json")) or "widget-view" in mime:
        return []
    longest = _long_arrays(value)
    if not known and longest < MIN_ARRAY:
        return []
    return [
        Finding(
            "interactive_data",
            where,
            f"{mime} output embeds its data in the export (longest numeric array: {longest}); draw a static "
            "figure with a safe plotting function (o4o_causal.plotting) or display an aggregate table instead",
        )
    ]


def _html_findings(html: str, where: str, threshold: int) -> list[Finding]:
    findings: list[Finding] = []
    for script in _SCRIPT.findall(html):
        if _NUMBER_ARRAY.search(script) or _EMBED_CALL.search(script):
            findings.append(
                Finding(
                    "interactive_data",
                    where,
                    "HTML output with a <script> embedding data (numeric arrays, plotly/vega/bokeh); "
                    "use a static figure from a safe plotting function instead",
                )
            )
            break
    if _EMBEDDED_IMAGE.search(html):
        findings.append(
            Finding(
                "unsafe_image",
                where,
                "HTML/Markdown output embeds an image (data URI or inline SVG) that no safe plotting function "
                "marked; draw it with o4o_causal.plotting",
            )
        )
    for table in tables.html_tables(html):
        findings.extend(tables.check(table, where, threshold))
    return findings


def _display_findings(output: dict[str, Any], where: str, threshold: int) -> list[Finding]:
    data: dict[str, Any] = output.get("data") or {}
    findings: list[Finding] = []
    for mime in [*IMAGE_MIMES, *(m for m in data if m.startswith("image/") and m not in IMAGE_MIMES)]:
        if mime in data and not _is_marked(output, mime):
            findings.append(
                Finding(
                    "unsafe_image",
                    where,
                    f"{mime} image not produced by a disclosure-safe plotting function; images can show "
                    "individuals (e.g. scatter plots). Draw it with o4o_causal.plotting (or mark_safe after review)",
                )
            )
            break
    for mime, value in data.items():
        findings.extend(_interactive(mime, value, where))
    if "application/javascript" in data:  # exported as a <script>
        findings.extend(_html_findings(f"<script>{_text(data['application/javascript'])}</script>", where, threshold))
    if "text/html" in data:
        findings.extend(_html_findings(_text(data["text/html"]), where, threshold))
    else:  # the export shows Markdown, else the text/plain repr
        shown = next((_text(data[m]) for m in ("text/markdown", "text/plain") if m in data), "")
        if "text/markdown" in data:  # Markdown can hold raw HTML and images
            findings.extend(_html_findings(shown, where, threshold))
        findings.extend(tables.text_findings(shown, where, threshold))
    for mime in TEXT_MIMES:
        if mime in data:
            findings.extend(_output_paths(_text(data[mime]), where))
            break
    return findings


def _output_findings(output: dict[str, Any], where: str, threshold: int) -> list[Finding]:
    kind = output.get("output_type")
    if kind == "error":
        return [
            Finding(
                "traceback",
                where,
                f"error output ({output.get('ename', 'error')}): tracebacks can print data values and paths; "
                "fix the error and re-run, or clear this output before export",
            )
        ]
    if kind == "stream":
        text = _text(output.get("text", ""))
        if "Traceback (most recent call last)" in text:  # stderr, or stdout (traceback.print_exc(file=...))
            return [
                Finding(
                    "traceback",
                    where,
                    "a printed traceback can show data values and paths; fix the error and re-run",
                )
            ]
        return _output_paths(text, where) + tables.text_findings(text, where, threshold)
    return _display_findings(output, where, threshold)


def _string_values(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _parameter_findings(source: str, where: str, stem: str) -> list[Finding]:
    """Absolute paths assigned in a parameters cell (the runner's own ``output_dir`` excepted)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    findings: list[Finding] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        name = ", ".join(t.id for t in targets if isinstance(t, ast.Name))
        for value in _string_values(node.value):
            if not (find_paths(value) or re.match(r"^(?:/|~|[A-Za-z]:[\\/]|\\\\)", value)):
                continue
            home = bool(_HOME_ROOTS.match(value))
            own_output = name == "output_dir" and Path(value).parts[-2:] == (stem, "output")
            if own_output and not home:
                continue  # where `o4o run` placed this run's outputs
            findings.append(
                Finding(
                    "path_parameter",
                    where,
                    f"parameter {name} = {value!r} is an absolute path, shown in the export's code and in the "
                    "notebook; use a path relative to the project root (e.g. data/...)",
                    "warning" if own_output else "error",
                )
            )
    return findings


def _markdown_findings(cell: Any, where: str) -> list[Finding]:
    """Images in a Markdown cell: attachments (pasted screenshots), data URIs, SVG, or files the export embeds."""
    source = _text(cell.get("source", ""))
    if not (cell.get("attachments") or _EMBEDDED_IMAGE.search(source) or _MARKDOWN_IMAGE.search(source)):
        return []
    msg = ("Markdown cell shows an image (attachment, data URI, SVG or a local file the export embeds): "
           "screenshots and figures not drawn by a safe plotting function can show individuals; remove it")  # fmt: skip
    return [Finding("unsafe_image", where, msg)]


def scan_notebook(path: str | Path, *, threshold: int | str | None = None) -> list[Finding]:
    """Find what would leak if an executed notebook were exported to HTML.

    Parameters
    ----------
    path
        The executed ``.ipynb``.
    threshold
        Smallest count of persons that may be shown, as the data owner requires: an int
        or ``"ssb"``/``"dst"``/``"acro"`` (default ``config.DISCLOSURE.threshold``).

    Returns
    -------
    list of Finding
        In notebook order; locations read ``"<name>.ipynb, cell <i>, output <j>"`` with
        0-based cell indices (as in papermill's error messages). Empty when nothing leaks.

    Raises
    ------
    DataError
        If the file does not exist or is not a notebook.
    SpecificationError
        If ``threshold`` is not an integer >= 1 or a preset name.
    """
    from o4o_causal.sdc._suppression import resolve_threshold  # numpy/scipy only when scanning

    src = Path(path)
    limit = resolve_threshold(threshold)
    nb = read_executed(src, fix="scan an executed .ipynb produced by `o4o run`")
    findings: list[Finding] = []
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") == "markdown":
            findings.extend(_markdown_findings(cell, _where(src.name, i)))
        if cell.get("cell_type") != "code":
            continue
        if PARAMETER_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            findings.extend(_parameter_findings(_text(cell.get("source", "")), _where(src.name, i), src.stem))
        for j, output in enumerate(cell.get("outputs", [])):
            findings.extend(_output_findings(output, _where(src.name, i, j), limit))
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json")
    if state is not None and _long_arrays(state) >= MIN_ARRAY:
        findings.append(
            Finding(
                "interactive_data",
                f"{src.name}, notebook metadata 'widgets'",
                f"saved widget state embeds numeric arrays ({_long_arrays(state)} values); "
                "clear the widget state (do not save it) or use static outputs",
            )
        )
    return findings


def notebooks_in(folder: str | Path) -> list[Path]:
    """Return the executed notebooks below ``folder`` (no checkpoints, partial or hidden files)."""
    root = Path(folder)
    return sorted(
        p
        for p in root.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".") and not p.name.endswith(".partial.ipynb")
    )


def scan_run(run_dir: str | Path, *, threshold: int | str | None = None) -> dict[str, list[Finding]]:
    """Scan every executed notebook of a run folder.

    Parameters
    ----------
    run_dir
        A run folder of ``o4o run`` (or any folder of executed notebooks).
    threshold
        As in :func:`scan_notebook`.

    Returns
    -------
    dict
        Notebook path relative to ``run_dir`` (POSIX) -> its findings (empty list when clean).

    Raises
    ------
    DataError
        If ``run_dir`` is not a folder or holds no notebook.
    """
    root = Path(run_dir)
    found = notebooks_in(root) if root.is_dir() else []
    if not found:
        raise DataError(
            format_error(
                what="run folder",
                expected="a folder with executed notebooks (*.ipynb)",
                found=str(root) if root.is_dir() else f"{root} (not a folder)",
                fix="pass a run folder of `o4o run`, e.g. reproducibility/runs/<run id>",
            )
        )
    return {p.relative_to(root).as_posix(): scan_notebook(p, threshold=threshold) for p in found}


__all__ = ["find_paths", "notebooks_in", "path_kind", "scan_notebook", "scan_run"]
