"""The ``index.html`` page of a run: notebooks, status, durations, key results."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from o4o_causal import _io

#: How many recorded results per notebook the index shows.
MAX_RESULTS_SHOWN = 12

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .35em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } .ok { color: #17692c; font-weight: 600; } .failed { color: #b00020; font-weight: 600; }
code { font-size: .92em; } .meta td:first-child { width: 14em; color: #555; } ul { margin: 0; padding-left: 1.1em; }
"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping) and {"value", "ci_low", "ci_high"} <= set(value):
        return f"{_fmt(value['value'])} [{_fmt(value['ci_low'])}, {_fmt(value['ci_high'])}]"
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def _results_cell(results: Mapping[str, Any]) -> str:
    if not results:
        return "&ndash;"
    items = list(results.items())
    shown = "".join(
        f"<li><code>{html.escape(k)}</code>: {html.escape(_fmt(v))}</li>" for k, v in items[:MAX_RESULTS_SHOWN]
    )
    more = (
        f"<li>&hellip; {len(items) - MAX_RESULTS_SHOWN} more in results.json</li>"
        if len(items) > MAX_RESULTS_SHOWN
        else ""
    )
    return f"<ul>{shown}{more}</ul>"


def _link(target: str | None, label: str) -> str:
    """Link to an output given relative to the run folder."""
    if not target:
        return "&ndash;"
    return f'<a href="{html.escape(target)}">{html.escape(label)}</a>'


def write_index(run_dir: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``index.html`` for a run from its manifest and return its path."""
    rows = []
    for nb in manifest["notebooks"]:
        status = html.escape(nb["status"])
        error = nb.get("error") or {}
        detail = ""
        if error:
            where = f"{error.get('type')} in cell {error.get('cell_index')}"
            detail = f"<br><small>{html.escape(where)}</small>"
        outputs = nb.get("outputs", {})
        rows.append(
            "<tr>"
            f"<td>{html.escape(nb['name'])}</td>"
            f'<td class="{status}">{status}{detail}</td>'
            f"<td>{nb['duration_s']:.1f} s</td>"
            f"<td>{_link(outputs.get('html'), 'HTML')} &middot; {_link(outputs.get('executed'), 'ipynb')}"
            f" &middot; {_link(outputs.get('results'), 'results.json')}</td>"
            f"<td>{_results_cell(nb.get('results', {}))}</td>"
            "</tr>"
        )
    git = manifest.get("git", {})
    meta = {
        "run": manifest["run_id"],
        "status": manifest["status"],
        "profile": manifest["profile"],
        "started / finished (UTC)": f"{manifest['started']} / {manifest['finished']}",
        "total duration": f"{manifest['duration_s']:.1f} s",
        "git commit": f"{git.get('commit')}{' (dirty tree)' if git.get('dirty') else ''}",
        "Python": manifest["environment"]["python"]["version"],
        "threads": manifest["threads"].get("O4O_THREADS"),
    }
    meta_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in meta.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>o4o-causal run {html.escape(manifest["run_id"])}</title>
<style>{_CSS}</style></head><body>
<h1>o4o-causal reproduction run</h1>
<table class="meta">{meta_rows}</table>
<table><thead><tr><th>notebook</th><th>status</th><th>duration</th><th>outputs</th><th>key results</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<p><a href="manifest.json">manifest.json</a>: versions, seeds, parameters and SHA-256 of every input and output.</p>
</body></html>
"""
    path = run_dir / "index.html"
    _io.write_text(path, page)
    return path
