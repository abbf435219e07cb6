"""Drawing DAGs and overlap diagnostics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from matplotlib.axes import Axes

from o4o_causal.sdc.figures import safe_figure

if TYPE_CHECKING:
    from o4o_causal.dag.graph import CausalDAG
    from o4o_causal.dag.overlap import OverlapResult

_LEVEL_COLOURS = {"person": "#dbe9f6", "municipality": "#fde0c5", "country": "#e5d8bd"}


def _fill(dag: CausalDAG, node: str, key: bool) -> str:
    """Fill colour of a node: white if latent, green for treatment/outcome, else by level."""
    if not dag.is_observed(node):
        return "#ffffff"
    return "#c7e9c0" if key else _LEVEL_COLOURS.get(dag.level(node), "#eeeeee")


def dag_layout(dag: CausalDAG) -> dict[str, tuple[float, float]]:
    """Layered left-to-right layout: topological generations as columns."""
    pos: dict[str, tuple[float, float]] = {}
    for x, layer in enumerate(nx.topological_generations(dag.graph)):
        ordered = sorted(layer, key=lambda n: (dag.level(n), n))
        for k, node in enumerate(ordered):
            pos[node] = (float(x), float(k - (len(ordered) - 1) / 2))
    return pos


def to_graphviz(dag: CausalDAG, *, treatment: str | None = None, outcome: str | None = None) -> str:
    """Return DOT source styled like :func:`draw_dag` (for rendering with graphviz)."""
    lines = ["digraph {", '  rankdir=LR; node [shape=box, style="rounded,filled", fontsize=10];']
    for node in dag.nodes:
        observed = dag.is_observed(node)
        key = node in (treatment, outcome)
        fill = _fill(dag, node, key)
        style = "rounded,filled,dashed" if not observed else ("rounded,filled,bold" if key else "rounded,filled")
        label = dag.graph.nodes[node].get("label", node)
        lines.append(f'  "{node}" [label="{label}", fillcolor="{fill}", style="{style}"];')
    lines += [f'  "{a}" -> "{b}";' for a, b in dag.graph.edges]
    return "\n".join([*lines, "}"])


@safe_figure
def draw_dag(
    dag: CausalDAG,
    *,
    treatment: str | None = None,
    outcome: str | None = None,
    engine: str = "auto",
    ax: Axes | None = None,
) -> Axes:
    """Draw a DAG: colour by level, dashed grey outline for latent nodes, treatment/outcome bold.

    ``engine="auto"`` uses graphviz when its ``dot`` program is installed, otherwise a
    layered networkx/matplotlib drawing (``engine="networkx"`` forces the latter).
    """
    import shutil

    if engine == "graphviz" or (engine == "auto" and shutil.which("dot")):
        return _draw_graphviz(dag, treatment, outcome, ax)
    pos = dag_layout(dag)
    if ax is None:
        width = 2.2 * (1 + max(x for x, _ in pos.values()))
        height = 0.7 * (1 + max(abs(y) for _, y in pos.values()) * 2)
        _, ax = plt.subplots(figsize=(max(width, 6), max(height, 3)))
    nx.draw_networkx_edges(dag.graph, pos, ax=ax, arrowsize=12, edge_color="#777777", node_size=1800, width=0.8)
    for node in dag.nodes:
        observed = dag.is_observed(node)
        key = node in (treatment, outcome)
        ax.text(
            *pos[node],
            dag.graph.nodes[node].get("label", node).replace(" ", "\n", 1),
            ha="center",
            va="center",
            fontsize=7,
            fontweight="bold" if key else "normal",
            bbox={
                "boxstyle": "round,pad=0.35",
                "facecolor": _fill(dag, node, key),
                "edgecolor": "#999999" if not observed else "#333333",
                "linestyle": "--" if not observed else "-",
            },
        )
    ax.set_axis_off()
    ax.margins(0.08)
    return ax


def _draw_graphviz(dag: CausalDAG, treatment: str | None, outcome: str | None, ax: Axes | None) -> Axes:
    import io

    import graphviz
    import matplotlib.image as mpimg

    png = graphviz.Source(to_graphviz(dag, treatment=treatment, outcome=outcome)).pipe(format="png")
    image = mpimg.imread(io.BytesIO(png), format="png")
    if ax is None:
        _, ax = plt.subplots(figsize=(image.shape[1] / 100, image.shape[0] / 100))
    ax.imshow(image)
    ax.set_axis_off()
    return ax


@safe_figure
def overlap_plot(result: OverlapResult, *, bins: int = 20, ax: Axes | None = None) -> Axes:
    """Mirrored histogram of propensity scores (treated up, untreated down); binned counts only."""
    data = result.histogram_data(bins)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.2))
    centres = (data["bin_low"] + data["bin_high"]) / 2
    width = float(np.diff(data["bin_low"]).mean()) * 0.95
    ax.bar(centres, data["treated"], width=width, color="#1f4e79", label="treated")
    ax.bar(centres, -data["untreated"], width=width, color="#9db4cf", label="untreated")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("propensity score")
    ax.set_ylabel("persons (untreated below)")
    ax.legend(frameon=False)
    return ax
