"""Causal DAGs from DOT files: validation, identification (DoWhy), testable implications.

DOT conventions of the suite (see ``dags/``):

* node names are data columns; ``columns="a,b"`` maps a node to several columns (dummies,
  squared terms);
* ``observed="no"`` marks a latent node;
* ``level="municipality"`` (or ``"country"``) marks a higher-level node. A latent
  municipality-level node is absorbed by municipality fixed effects when estimation is
  given the municipality column (``fixed_effects=...``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

from o4o_causal import _validate
from o4o_causal.exceptions import DataError, SpecificationError, format_error


def _clean(value: object) -> str:
    return str(value).strip().strip('"')


@dataclass(frozen=True)
class Identification:
    """What a DAG identifies for one treatment-outcome pair."""

    treatment: str
    outcome: str
    backdoor: tuple[str, ...] | None  # minimal adjustment set (nodes), None if not identified
    backdoor_sets: tuple[tuple[str, ...], ...]  # all minimal sets found
    frontdoor: tuple[str, ...]
    instruments: tuple[str, ...]
    absorbed_by_fixed_effects: tuple[str, ...]
    estimand: str

    @property
    def identified(self) -> bool:
        """Whether a backdoor adjustment set exists."""
        return self.backdoor is not None

    def summary(self) -> pd.DataFrame:
        """Table of identification strategies and their variables."""
        rows = [
            (
                "backdoor (minimal adjustment set)",
                ", ".join(self.backdoor) if self.backdoor is not None else "not identified",
            ),
            ("front-door mediators", ", ".join(self.frontdoor) or "none"),
            ("instruments", ", ".join(self.instruments) or "none"),
            ("latent nodes absorbed by fixed effects", ", ".join(self.absorbed_by_fixed_effects) or "none"),
        ]
        return pd.DataFrame(rows, columns=["strategy", "variables"]).set_index("strategy")


class CausalDAG:
    """A causal DAG with the suite's node attributes (configure with a file, then use)."""

    def __init__(self, graph: nx.DiGraph, *, name: str = "dag") -> None:
        self.graph = graph
        self.name = name
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            raise SpecificationError(
                format_error(
                    what=f"DAG {name!r}",
                    expected="an acyclic graph",
                    found=f"the cycle {' -> '.join(str(a) for a, _ in cycle)} -> {cycle[0][0]}",
                    fix="remove or reverse one edge of the cycle",
                )
            )

    @classmethod
    def from_dot(cls, text: str, *, name: str = "dag") -> CausalDAG:
        """Parse DOT text (``digraph { a -> b; }``)."""
        import pydot

        try:
            parsed = pydot.graph_from_dot_data(text)
        except Exception as exc:  # pydot raises several parser exception types
            parsed = None
            error = str(exc)
        else:
            error = "unparseable DOT"
        if not parsed:
            raise SpecificationError(
                format_error(what=f"DAG {name!r}", expected="valid DOT text", found=error, fix="check the syntax")
            )
        raw = nx.nx_pydot.from_pydot(parsed[0])
        graph = nx.DiGraph()
        for node, attrs in raw.nodes(data=True):
            if _clean(node) in {"node", "edge", "graph", "\\n"}:
                continue
            graph.add_node(_clean(node), **{k: _clean(v) for k, v in attrs.items()})
        graph.add_edges_from((_clean(a), _clean(b)) for a, b in raw.edges())
        return cls(graph, name=name)

    @classmethod
    def from_file(cls, path: str | Path) -> CausalDAG:
        """Read a DOT file."""
        p = Path(path)
        if not p.is_file():
            raise SpecificationError(
                format_error(what="DAG file", expected="an existing .dot file", found=str(p), fix="check the path")
            )
        return cls.from_dot(p.read_text(encoding="utf-8"), name=p.stem)

    # ------------------------------------------------------------------ nodes
    @property
    def nodes(self) -> list[str]:
        """All nodes."""
        return list(self.graph.nodes)

    def is_observed(self, node: str) -> bool:
        """Whether ``node`` is observed (no ``observed="no"`` attribute)."""
        return bool(self.graph.nodes[node].get("observed", "yes") != "no")

    @property
    def observed(self) -> list[str]:
        """Observed nodes."""
        return [n for n in self.graph.nodes if self.is_observed(n)]

    @property
    def unobserved(self) -> list[str]:
        """Latent nodes."""
        return [n for n in self.graph.nodes if not self.is_observed(n)]

    def level(self, node: str) -> str:
        """Level of a node: ``person`` (default), ``municipality`` or ``country``."""
        return str(self.graph.nodes[node].get("level", "person"))

    def columns(self, node: str) -> list[str]:
        """Return the data columns of a node (attribute ``columns``, else the node name)."""
        spec = self.graph.nodes[node].get("columns")
        return [c.strip() for c in spec.split(",")] if spec else [node]

    def adjustment_columns(self, nodes: tuple[str, ...] | list[str]) -> list[str]:
        """Return the data columns of a set of nodes, in order."""
        return [c for n in nodes for c in self.columns(n)]

    def __repr__(self) -> str:
        """Summary."""
        edges = self.graph.number_of_edges()
        return f"CausalDAG({self.name!r}, nodes={len(self.nodes)}, edges={edges}, latent={self.unobserved})"

    # ------------------------------------------------------------- validation
    def require_node(self, node: str, role: str) -> None:
        """Raise :class:`SpecificationError` unless ``node`` is an observed node of the DAG."""
        if node not in self.graph:
            raise SpecificationError(
                format_error(
                    what=f"{role} {node!r}",
                    expected=f"a node of DAG {self.name!r}",
                    found=f"not in the DAG (nodes: {', '.join(sorted(self.nodes)[:15])})",
                    fix="add the node to the DAG file or pass the right name",
                )
            )
        if not self.is_observed(node):
            raise SpecificationError(
                format_error(
                    what=f"{role} {node!r}", expected="an observed node", found="a latent node", fix="fix the DAG"
                )
            )

    def validate(self, data: pd.DataFrame) -> None:
        """Check that every observed node maps to existing data columns.

        Raises
        ------
        DataError
            Naming every observed node whose columns are missing.
        """
        _validate.require_frame(data)
        missing = {n: [c for c in self.columns(n) if c not in data.columns] for n in self.observed}
        missing = {n: cols for n, cols in missing.items() if cols}
        if missing:
            shown = "; ".join(f"node {n!r} -> column(s) {cols}" for n, cols in missing.items())
            raise DataError(
                format_error(
                    what=f"DAG {self.name!r} vs data",
                    expected="a data column for every observed node",
                    found=f"missing: {shown}",
                    fix='add the columns, map the node with columns="..." in the DOT file, or mark it observed="no"',
                )
            )

    # --------------------------------------------------------- identification
    def identify(self, treatment: str, outcome: str, *, fixed_effects: bool = False) -> Identification:
        """Identify the effect of ``treatment`` on ``outcome`` with DoWhy.

        Parameters
        ----------
        treatment, outcome
            Observed nodes.
        fixed_effects
            If true, latent municipality-level nodes count as observed: municipality
            fixed effects absorb them (the estimator must then use them).

        Returns
        -------
        Identification
            Minimal backdoor adjustment set (and all minimal sets of the smallest size),
            front-door mediators and instruments.
        """
        import logging

        from dowhy.causal_identifier import auto_identifier as ai

        self.require_node(treatment, "treatment")
        self.require_node(outcome, "outcome")
        absorbed = tuple(n for n in self.unobserved if fixed_effects and self.level(n) == "municipality")
        observed = [*self.observed, *absorbed]
        logging.getLogger("dowhy").setLevel(logging.WARNING)
        estimand = ai.identify_effect_auto(
            self.graph,
            action_nodes=[treatment],
            outcome_nodes=[outcome],
            observed_nodes=observed,
            estimand_type=ai.EstimandType.NONPARAMETRIC_ATE,
            backdoor_adjustment=ai.BackdoorAdjustment.BACKDOOR_MIN,
        )
        backdoor = estimand.get_backdoor_variables()
        sets = self._minimal_sets(treatment, outcome, observed)
        if backdoor is None or (not backdoor and not sets and not self._empty_set_valid(treatment, outcome)):
            chosen: tuple[str, ...] | None = None
        else:
            chosen = tuple(sorted(v for v in backdoor if v not in absorbed))
        return Identification(
            treatment=treatment,
            outcome=outcome,
            backdoor=chosen,
            backdoor_sets=tuple(tuple(sorted(v for v in s if v not in absorbed)) for s in sets),
            frontdoor=tuple(estimand.get_frontdoor_variables() or ()),
            instruments=tuple(estimand.get_instrumental_variables() or ()),
            absorbed_by_fixed_effects=absorbed,
            estimand=str(estimand),
        )

    def _backdoor_graph(self, treatment: str) -> nx.DiGraph:
        g = self.graph.copy()
        g.remove_edges_from(list(g.out_edges(treatment)))
        return g

    def _empty_set_valid(self, treatment: str, outcome: str) -> bool:
        return bool(nx.is_d_separator(self._backdoor_graph(treatment), {treatment}, {outcome}, set()))

    def _minimal_sets(self, treatment: str, outcome: str, observed: list[str], max_size: int = 12) -> list[set[str]]:
        """All valid backdoor sets of the smallest size (exhaustive over candidates)."""
        forbidden = nx.descendants(self.graph, treatment) | {treatment, outcome}
        candidates = sorted(
            n for n in observed if n not in forbidden and nx.has_path(self.graph.to_undirected(), n, outcome)
        )
        g = self._backdoor_graph(treatment)
        for size in range(0, min(max_size, len(candidates)) + 1):
            found = [
                set(c)
                for c in itertools.combinations(candidates, size)
                if nx.is_d_separator(g, {treatment}, {outcome}, set(c))
            ]
            if found:
                return found[:20]
            if size >= 6 and len(candidates) > 18:
                break  # large graphs: rely on DoWhy's minimal set
        return []

    # ---------------------------------------------------- testable implications
    def implications(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Local Markov implications among observed nodes: ``(x, y, given)``.

        For every observed node ``x`` whose parents are all observed: ``x`` is
        independent of each observed non-descendant non-parent ``y`` given its parents.
        Pairs are reported once.
        """
        out: dict[frozenset[str], tuple[str, str, tuple[str, ...]]] = {}
        for x in self.observed:
            parents = set(self.graph.predecessors(x))
            if any(not self.is_observed(p) for p in parents):
                continue
            nondesc = set(self.observed) - nx.descendants(self.graph, x) - parents - {x}
            for y in sorted(nondesc):
                key = frozenset({x, y})
                if key not in out and nx.is_d_separator(self.graph, {x}, {y}, parents):
                    out[key] = (x, y, tuple(sorted(parents)))
        return list(out.values())

    def test_implications(
        self,
        data: pd.DataFrame,
        *,
        alpha: float = 0.01,
        cluster: str | None = None,
        max_rows: int = 200_000,
        seed: int = 0,
    ) -> pd.DataFrame:
        """Test each implied conditional independence with a partial-correlation test.

        Each test regresses both variables (all their columns) on the conditioning
        columns and tests the correlation of the residuals (Fisher z). Implications
        among municipality/country-level nodes only are tested on one row per
        ``cluster`` (their real sample size), not on person rows. With very large data a
        random subsample of ``max_rows`` person rows is used.

        Returns
        -------
        DataFrame
            ``x, y, given, level, n, partial_corr, p_value, holds`` (holds = p >= alpha).
        """
        self.validate(data)
        persons = data.sample(n=max_rows, random_state=seed) if len(data) > max_rows else data
        units = data.drop_duplicates(cluster) if cluster else None
        rows = []
        for x, y, given in self.implications():
            upper = all(self.level(n) != "person" for n in (x, y, *given))
            frame = units if upper and units is not None else persons
            z_cols = self.adjustment_columns(given)
            r = _partial_corr(frame, self.columns(x), self.columns(y), z_cols)
            dof = len(frame) - len(z_cols) - 3
            z = np.arctanh(np.clip(r, -0.999999, 0.999999)) * np.sqrt(max(dof, 1))
            p = float(2 * stats.norm.sf(abs(z)))
            rows.append(
                {
                    "x": x,
                    "y": y,
                    "given": ", ".join(given) or "-",
                    "level": "municipality" if frame is units else "person",
                    "n": len(frame),
                    "partial_corr": r,
                    "p_value": p,
                    "holds": p >= alpha,
                }
            )
        return pd.DataFrame(rows, columns=["x", "y", "given", "level", "n", "partial_corr", "p_value", "holds"])


def _numeric(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Return columns as floats; text/categorical columns become dummies (first level dropped)."""
    parts = []
    for col in cols:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            parts.append(values.to_numpy(dtype=float)[:, None])
        else:
            parts.append(pd.get_dummies(values, drop_first=True).to_numpy(dtype=float))
    return np.column_stack(parts) if parts else np.empty((len(frame), 0))


def _residuals(frame: pd.DataFrame, cols: list[str], z: np.ndarray) -> np.ndarray:
    y = _numeric(frame, cols)
    beta, *_ = np.linalg.lstsq(z, y, rcond=None)
    res = y - z @ beta
    # several columns (dummies): their first principal direction
    if res.shape[1] > 1:
        u, s, _ = np.linalg.svd(res - res.mean(axis=0), full_matrices=False)
        return np.asarray(u[:, 0] * s[0])
    return np.asarray(res[:, 0])


def _partial_corr(frame: pd.DataFrame, x: list[str], y: list[str], z_cols: list[str]) -> float:
    z = np.column_stack([np.ones(len(frame)), _numeric(frame, z_cols)])
    rx, ry = _residuals(frame, x, z), _residuals(frame, y, z)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])
