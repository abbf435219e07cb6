"""Shared driver of the benchmarks: each part in a fresh child process, figures appended to a JSON file.

A benchmark script defines its parts (functions returning a dict of figures) and calls
:func:`run` under ``if __name__ == "__main__"``. ``python script.py [PART ...]`` runs the
parts (default: ``default_parts``), each in a child process ``python script.py --child
PART`` so that peak memory (max RSS of the children so far) is measured per process;
``judge(part, figures)`` may add ``meets_targets``. Every invocation appends one entry
(date, package version, machine, threads, ``extra`` and the figures of each part).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

Figures = dict[str, object]


def run_child(script: str | Path, part: str) -> Figures:
    """Run ``part`` of ``script`` in a child process; return its figures with peak memory."""
    done = subprocess.run([sys.executable, str(script), "--child", part], capture_output=True, text=True, check=True)
    figures: Figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, 2)
    return figures


def run(
    script: str | Path,
    results: Path,
    parts: Mapping[str, Callable[[], Figures]],
    default_parts: Sequence[str],
    *,
    extra: Mapping[str, object] | None = None,
    judge: Callable[[str, Figures], None] | None = None,
) -> None:
    """Dispatch the command line of a benchmark script (child part, or parent run of several parts)."""
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(parts[sys.argv[2]](), default=float))
        return
    from o4o_causal import __version__, config

    entry: Figures = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "o4o_causal": __version__,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "threads": config.threads(),
        **dict(extra or {}),
    }
    for part in sys.argv[1:] or list(default_parts):
        if part not in parts:
            raise SystemExit(f"unknown part {part!r}; choose from {', '.join(parts)}")
        print(f"running {part} ...", flush=True)
        figures = run_child(script, part)
        if judge is not None:
            judge(part, figures)
        entry[part] = figures
        print(json.dumps(figures, indent=1), flush=True)
    history = json.loads(results.read_text()) if results.exists() else []
    history.append(entry)
    results.write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    print(f"appended to {results.name}")
