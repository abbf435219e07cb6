"""The safe mark of figures: on artists, through the decorator, and into an executed notebook."""

from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from o4o_causal import config
from o4o_causal.sdc.figures import (
    METADATA_KEY,
    SAFE_FUNCTION_ATTR,
    install_formatters,
    is_safe_figure,
    mark_safe,
    safe_figure,
    safe_label,
)
from o4o_causal.sdc.notebooks import scan_notebook


@safe_figure
def _bars(counts: list[int], *, ax: Axes | None = None) -> Axes:
    if ax is None:
        _, ax = plt.subplots()
    ax.bar(range(len(counts)), counts)
    return ax


@safe_figure
def _grid() -> Figure:
    fig, axes = plt.subplots(1, 2)
    for ax in axes:
        ax.plot([0, 1, 2], [1, 3, 2])
    return fig


@safe_figure
def _not_a_figure() -> str:
    return "digraph {}"


def teardown_function() -> None:
    plt.close("all")


def test_decorator_marks_with_the_qualified_name() -> None:
    ax = _bars([10, 12, 9])
    assert is_safe_figure(ax.figure) and is_safe_figure(ax)
    assert safe_label(ax) == f"{__name__}._bars"
    assert is_safe_figure(_grid())
    assert _bars.__name__ == "_bars" and _bars.__wrapped__ is not None  # type: ignore[attr-defined]


def test_plain_matplotlib_is_not_safe() -> None:
    fig, ax = plt.subplots()
    ax.scatter(np.arange(50), np.arange(50))
    assert not is_safe_figure(fig) and safe_label(fig) is None


def test_unsafe_data_added_afterwards_or_beside_removes_the_mark() -> None:
    ax = _bars([10, 12, 9])
    ax.axhline(10)  # a reference line is fine
    ax.text(0, 10, "n = 31")
    assert is_safe_figure(ax)
    ax.scatter(np.arange(30), np.arange(30))  # microdata on top of a safe figure
    assert not is_safe_figure(ax)
    fig, (left, right) = plt.subplots(1, 2)
    left.scatter(np.arange(30), np.arange(30))
    _bars([10, 12, 9], ax=right)  # a safe panel beside a scatter of persons
    assert not is_safe_figure(fig)


def test_points_drawn_as_markers_or_added_artists_remove_the_mark() -> None:
    from matplotlib.lines import Line2D
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    ax = _bars([10, 12, 9])
    ax.plot([1.7], [11.0], "o")  # one person as a one-point line with a marker
    assert not is_safe_figure(ax)
    ax = _bars([10, 12, 9])
    ax.plot([0.3, 2.2], [3.0, 3.0], "rx")  # two persons' values (e.g. min and max) as markers
    assert not is_safe_figure(ax)
    ax = _bars([10, 12, 9])
    ax.add_artist(AnnotationBbox(OffsetImage(np.random.default_rng(0).random((8, 8))), (1, 5)))
    assert not is_safe_figure(ax)
    ax = _bars([10, 12, 9])
    ax.figure.add_artist(Line2D(np.linspace(0, 1, 40), np.linspace(0, 1, 40) ** 2))
    assert not is_safe_figure(ax)
    ax = _bars([10, 12, 9])
    ax.add_artist(ax.legend(["n"]))  # legends and text stay allowed
    assert is_safe_figure(ax)


def test_data_drawn_on_the_axes_before_the_call_stays_unmarked() -> None:
    _, ax = plt.subplots()
    ax.plot(np.arange(40), np.arange(40))
    _bars([10, 12], ax=ax)
    assert not is_safe_figure(ax)


def test_mark_safe_explicitly_and_clear_errors() -> None:
    fig, axes = plt.subplots(2, 1)
    for ax in axes:
        ax.hist([1.0, 2.0, 2.5] * 10)
    assert mark_safe(axes, "reviewed aggregate") is fig and safe_label(fig) == "reviewed aggregate"
    with pytest.raises(TypeError, match="expected a matplotlib Figure, Axes or array of Axes"):
        mark_safe("figure.png", "x")
    with pytest.raises(TypeError, match="must return a Figure, Axes or array of Axes, found str"):
        _not_a_figure()


def test_install_outside_ipython_does_nothing() -> None:
    assert install_formatters() == 0


def test_every_public_plotting_function_is_marked() -> None:
    import inspect

    import o4o_causal.plotting as plotting

    not_drawing = {"dag_layout", "to_graphviz", "funnel_limits"}
    for name in plotting.__all__:
        obj = getattr(plotting, name)
        if not inspect.isfunction(obj) or name.endswith("_data") or name in not_drawing:
            continue
        assert getattr(obj, SAFE_FUNCTION_ATTR, None), f"o4o_causal.plotting.{name} is not decorated with @safe_figure"


NOTEBOOK_CELLS = [
    "import matplotlib.pyplot as plt\nimport numpy as np",
    "from o4o_causal.sdc.figures import safe_figure\n"
    "@safe_figure\ndef bars(ax=None):\n    _, ax = plt.subplots()\n    ax.bar([0, 1], [10, 12])\n    return ax\n"
    "bars();",
    "fig, ax = plt.subplots()\nax.scatter(np.arange(20), np.arange(20));",
    "%config InlineBackend.figure_formats = ['svg']\nbars();",
]


@pytest.mark.slow
def test_mark_survives_into_the_executed_notebook(tmp_path: Path) -> None:
    from nbclient import NotebookClient

    from o4o_causal.repro.kernel import ensure_kernel

    ensure_kernel()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in NOTEBOOK_CELLS]
    NotebookClient(
        nb, kernel_name=config.KERNEL_NAME, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    safe_png, plain_png, safe_svg = (nb.cells[i].outputs[-1] for i in (1, 2, 3))
    assert safe_png.metadata["image/png"][METADATA_KEY] == {"safe": "__main__.bars"}
    assert "image/png" in plain_png.data and METADATA_KEY not in plain_png.metadata.get("image/png", {})
    assert safe_svg.metadata["image/svg+xml"][METADATA_KEY] == {"safe": "__main__.bars"}
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    findings = scan_notebook(path)
    assert [(f.rule, f.location) for f in findings] == [("unsafe_image", "executed.ipynb, cell 2, output 0")]


def test_safe_hist_draws_the_published_bins_only() -> None:
    from o4o_causal.plotting import hist
    from o4o_causal.sdc.descriptives import histogram_table

    values = pd.Series(np.r_[np.random.default_rng(1).normal(50, 10, 400), [120.0, 121.0]], name="income")
    ax = hist(values, bins=20)
    table = histogram_table(values, 20)
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == sorted(table["count"].astype(float)) and min(heights) >= config.DISCLOSURE.threshold
    assert is_safe_figure(ax) and safe_label(ax) == "o4o_causal.plotting.disclosure.hist"
    assert ax.get_xlabel() == "income" and ax.get_ylabel() == "persons"
    dens = hist(values, bins=20, density=True)
    areas = np.array([p.get_height() * p.get_width() for p in dens.patches])
    assert np.isclose(areas.sum(), 1.0)
    few = hist([1.0, 2.0, 3.0])
    assert not few.patches and "suppressed" in few.texts[0].get_text()


def test_binned_scatter_hides_small_cells() -> None:
    from o4o_causal.plotting import binned_scatter
    from o4o_causal.sdc.descriptives import binned_counts

    rng = np.random.default_rng(2)
    x = rng.normal(size=600)
    y = x + rng.normal(size=600)
    ax = binned_scatter(x, y, bins=6)
    grid = binned_counts(x, y, bins=6)
    mesh = ax.collections[0]
    drawn = np.ma.filled(mesh.get_array(), 0.0)
    published = grid.astype("Float64").to_numpy(dtype=float, na_value=0.0).T.ravel()
    assert np.allclose(np.sort(drawn.ravel()), np.sort(published))
    assert drawn[drawn > 0].min() >= config.DISCLOSURE.threshold
    assert len(ax.collections) == 2 and ax.get_legend() is not None  # hidden cells drawn grey
    assert is_safe_figure(ax)  # the colour bar drawn by the function is marked too
