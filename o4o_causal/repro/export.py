"""HTML export of executed notebooks that renders fully offline.

Exports use a template that extends nbconvert's ``lab`` template and drops every
script it would fetch from a CDN at view time (require.js, widget manager, MathJax,
mermaid.js). Images are embedded as data URIs by nbconvert, CSS is inlined. An export
opened inside a secure environment without internet, or attached to a publication,
therefore renders completely (LaTeX in Markdown shows as source).

Publication mode hides all code and prompts. It hides code only, not outputs:
outputs must pass disclosure control before they leave a secure environment.
"""

from __future__ import annotations

import re
from pathlib import Path

from o4o_causal import _io
from o4o_causal.exceptions import DataError, format_error

TEMPLATE_NAME = "o4o_offline"
TEMPLATES_DIR = Path(__file__).parent / "templates"

#: Patterns of references that make a browser fetch something at view time.
_REMOTE_PATTERNS = (
    re.compile(r"<script[^>]*\ssrc\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<link[^>]*\shref\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<img[^>]*\ssrc\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"@import\s+(?:url\()?[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.IGNORECASE),
)


def remote_references(html: str) -> list[str]:
    """Return the snippets of ``html`` that would fetch remote resources when viewed.

    Hyperlinks (``<a href=...>``) are not counted: they are only followed on a click.
    """
    hits: list[str] = []
    for pattern in _REMOTE_PATTERNS:
        hits.extend(html[max(m.start() - 20, 0) : m.end() + 60] for m in pattern.finditer(html))
    return hits


def export_html(notebook: str | Path, html: str | Path, *, publication: bool = False) -> Path:
    """Export an executed notebook to self-contained HTML.

    Parameters
    ----------
    notebook
        The executed ``.ipynb`` file.
    html
        Output path of the HTML file (written atomically).
    publication
        Hide code cells and prompts (outputs and Markdown stay).

    Returns
    -------
    Path
        The written HTML file.

    Raises
    ------
    DataError
        If the notebook file does not exist or is not a notebook, or if the export
        would still reference remote resources.
    """
    import nbformat
    from nbconvert import HTMLExporter

    from o4o_causal import __version__

    src = Path(notebook)
    if not src.is_file():
        raise DataError(
            format_error(what="notebook", expected="an existing .ipynb file", found=str(src), fix="check the path")
        )
    try:
        nb = nbformat.read(src, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        raise DataError(
            format_error(
                what=f"notebook {src.name}",
                expected="a valid Jupyter notebook",
                found=f"{type(exc).__name__}: {exc}",
                fix="export an executed .ipynb produced by `o4o run`",
            )
        ) from exc
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=publication,
        exclude_input_prompt=publication,
        exclude_output_prompt=publication,
        embed_images=True,
    )
    resources = {"o4o_version": __version__, "o4o_publication": publication}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    remote = remote_references(body)
    if remote:
        raise DataError(
            format_error(
                what=f"HTML export of {src.name}",
                expected="no resources fetched at view time",
                found=f"{len(remote)} remote reference(s), first: {remote[0]!r}",
                fix="embed the resource (e.g. display images inline) instead of linking it",
            )
        )
    out = Path(html)
    _io.write_text(out, body)
    return out
