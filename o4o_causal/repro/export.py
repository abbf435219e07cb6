"""HTML export of executed notebooks that renders fully offline.

Exports use a template that extends nbconvert's ``lab`` template and drops every
script it would fetch from a CDN at view time (require.js, widget manager, MathJax,
mermaid.js). Images are embedded as data URIs by nbconvert, CSS is inlined. An export
opened inside a secure environment without internet, or attached to a publication,
therefore renders completely (LaTeX in Markdown shows as source).

Publication mode hides all code and prompts. It hides code only, not outputs, so a
publication export is gated by disclosure control: the notebook is scanned with
:func:`o4o_causal.sdc.notebooks.scan_notebook` and not exported while it has findings
of severity ``error``, unless an ``override_reason`` is given. Findings and the
override are recorded in the run's ``manifest.json`` when the notebook lies in a run
folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o4o_causal import _io
from o4o_causal.exceptions import DataError, DisclosureError, format_error
from o4o_causal.repro.notebooks import read_executed

if TYPE_CHECKING:
    from o4o_causal.sdc.findings import Finding

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


def disclosure_gate(
    notebook: str | Path, *, override_reason: str | None = None, threshold: int | str | None = None
) -> list[Finding]:
    """Scan a notebook for a publication export; refuse when it has blocking findings.

    Parameters
    ----------
    notebook
        The executed ``.ipynb`` file.
    override_reason
        Why blocking findings may be exported anyway (e.g. an output checker's
        approval); recorded in the run manifest, so the notebook must lie in a run
        folder (``manifest.json`` beside it or one level up).
    threshold
        Disclosure threshold of the data owner: an int or ``"ssb"``/``"dst"``/``"acro"``
        (default ``config.DISCLOSURE.threshold``).

    Returns
    -------
    list of Finding
        Every finding (warnings, and errors that were overridden).

    Raises
    ------
    DisclosureError
        If a finding has severity ``error`` and no non-empty ``override_reason`` is given,
        or an override is needed but there is no run manifest to record it in.
    """
    from o4o_causal.repro.manifest import find_manifest
    from o4o_causal.sdc.findings import blocking
    from o4o_causal.sdc.notebooks import scan_notebook

    src = Path(notebook)
    findings = scan_notebook(src, threshold=threshold)
    errors = blocking(findings)
    overridden = bool(override_reason and override_reason.strip())
    if errors and overridden and find_manifest(src) is None:
        raise DisclosureError(
            format_error(
                what=f"override of the disclosure findings of {src.name}",
                expected="a run folder whose manifest.json records the override reason",
                found=f"no manifest.json beside {src.name} or one folder up ({len(errors)} blocking finding(s))",
                fix="export the notebook from its run folder of `o4o run`, or remove the outputs that leak",
            )
        )
    if errors and not overridden:
        first = "; ".join(f"{f.rule} at {f.location}: {f.message}" for f in errors[:3])
        raise DisclosureError(
            format_error(
                what=f"publication export of {src.name}",
                expected="no disclosure findings of severity 'error'",
                found=f"{len(errors)} finding(s), first: {first}",
                fix=f"remove or aggregate those outputs and re-run (list them with `o4o check {src}`), or, after "
                "review by an output checker, give an override reason (--override-reason 'TEXT'); "
                "it is recorded in the run manifest",
            )
        )
    return findings


def _record(src: Path, findings: list[Finding], override_reason: str | None, threshold: int | str | None) -> None:
    """Record a publication export's findings and override in the run manifest, if there is one."""
    from o4o_causal.repro.manifest import find_manifest, record_disclosure
    from o4o_causal.sdc._suppression import resolve_threshold

    path = find_manifest(src)
    if path is not None:
        limit = resolve_threshold(threshold)
        entry = {
            "findings": [f.to_dict() for f in findings],
            "override_reason": override_reason.strip() if override_reason and override_reason.strip() else None,
            "threshold": limit,
        }
        record_disclosure(path, src.stem, entry)


def _render(nb: Any, name: str, publication: bool) -> str:
    """Render a notebook to offline HTML; refuse output that would fetch remote resources."""
    from nbconvert import HTMLExporter

    from o4o_causal import __version__

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
                what=f"HTML export of {name}",
                expected="no resources fetched at view time",
                found=f"{len(remote)} remote reference(s), first: {remote[0]!r}",
                fix="embed the resource (e.g. display images inline) instead of linking it",
            )
        )
    return str(body)


def export_html(
    notebook: str | Path,
    html: str | Path,
    *,
    publication: bool = False,
    override_reason: str | None = None,
    threshold: int | str | None = None,
) -> Path:
    """Export an executed notebook to self-contained HTML.

    Parameters
    ----------
    notebook
        The executed ``.ipynb`` file.
    html
        Output path of the HTML file (written atomically).
    publication
        Hide code cells and prompts (outputs and Markdown stay). The notebook must
        pass :func:`disclosure_gate` first; its findings (and the override) are recorded
        in the run's ``manifest.json`` when the notebook lies in a run folder.
    override_reason
        Export a publication notebook despite blocking findings, for this reason.
    threshold
        Disclosure threshold of the gate: an int or a preset name (default
        ``config.DISCLOSURE.threshold``).

    Returns
    -------
    Path
        The written HTML file.

    Raises
    ------
    DataError
        If the notebook file does not exist or is not a notebook, or if the export
        would still reference remote resources.
    DisclosureError
        In publication mode, if the notebook has blocking disclosure findings and no
        ``override_reason`` is given, or an override cannot be recorded because the
        notebook lies in no run folder (nothing is written).
    """
    src = Path(notebook)
    nb = read_executed(src, fix="export an executed .ipynb produced by `o4o run`")
    findings = disclosure_gate(src, override_reason=override_reason, threshold=threshold) if publication else []
    body = _render(nb, src.name, publication)
    if publication:  # recorded before the HTML exists: no publication export without its record
        _record(src, findings, override_reason, threshold)
    out = Path(html)
    _io.write_text(out, body)
    return out
