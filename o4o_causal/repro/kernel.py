"""The suite's own Jupyter kernel: registration and a thread-pinning launcher.

Runs never depend on whatever kernel a user happens to have: the runner registers a
kernel named :data:`o4o_causal.config.KERNEL_NAME` for the interpreter of the
project's environment and executes every notebook with it. The kernel is started
through :func:`main`, which pins the thread pools of the numerical libraries (OpenMP,
OpenBLAS, MKL, Accelerate, numexpr, numba) *before* any of them is imported, so that
interactive sessions in JupyterLab and reproduction runs compute with the same
settings.

Run ``python -m o4o_causal.repro.kernel install`` to (re)register the kernel.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from o4o_causal import _io, config


def thread_settings(n_threads: int | None = None) -> dict[str, str]:
    """Return the thread environment variables the kernel sets.

    Parameters
    ----------
    n_threads
        Thread count; defaults to :func:`o4o_causal.config.threads`.

    Returns
    -------
    dict
        Variable name -> value, including ``O4O_THREADS``.
    """
    n = config.threads() if n_threads is None else int(n_threads)
    settings = dict.fromkeys(config.THREAD_ENV_VARS, str(n))
    settings[config.THREADS_ENV] = str(n)
    return settings


def apply_thread_settings(n_threads: int | None = None) -> dict[str, str]:
    """Set the thread environment variables in this process and return them."""
    settings = thread_settings(n_threads)
    os.environ.update(settings)
    return settings


def kernel_dir(prefix: str | os.PathLike[str] | None = None) -> Path:
    """Return the kernelspec directory inside the environment ``prefix``.

    Jupyter searches ``<sys.prefix>/share/jupyter/kernels`` for every process started
    from the environment, so the kernel is visible to JupyterLab and papermill run
    from ``.venv`` without touching the user's own Jupyter configuration.
    """
    base = Path(sys.prefix if prefix is None else prefix)
    return base / "share" / "jupyter" / "kernels" / config.KERNEL_NAME


def kernel_spec(python: str | None = None) -> dict[str, object]:
    """Return the kernelspec (``kernel.json`` content) for interpreter ``python``."""
    return {
        "argv": [python or sys.executable, "-m", "o4o_causal.repro.kernel", "-f", "{connection_file}"],
        "display_name": config.KERNEL_DISPLAY_NAME,
        "language": "python",
        "metadata": {"debugger": True, "o4o_causal": True},
    }


def ensure_kernel(prefix: str | os.PathLike[str] | None = None) -> Path:
    """Register the suite's kernel for the running interpreter if it is not already.

    The kernelspec is rewritten when it points to another interpreter (for example
    after ``.venv`` was re-created), so runs always use this environment.

    Returns
    -------
    Path
        The kernelspec directory.
    """
    target = kernel_dir(prefix)
    spec = kernel_spec()
    spec_file = target / "kernel.json"
    if spec_file.exists():
        try:
            if json.loads(spec_file.read_text(encoding="utf-8")) == spec:
                return target
        except json.JSONDecodeError:
            pass
    target.mkdir(parents=True, exist_ok=True)
    _io.write_text(spec_file, json.dumps(spec, indent=1) + "\n")
    return target


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``install`` registers the kernel; anything else launches it."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["install"]:
        print(f"registered Jupyter kernel {config.KERNEL_NAME!r} in {ensure_kernel()}")
        return
    apply_thread_settings()
    from ipykernel import kernelapp

    sys.argv = [sys.argv[0], *args]
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
