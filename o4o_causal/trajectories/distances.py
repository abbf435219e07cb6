"""Dissimilarities between sequences, computed once per *distinct* sequence.

:func:`om_distances` collapses identical sequences first (in register cohorts many
persons share a sequence: with WAA and WAA-with-measure merged, the "on WAA all four
years" majority is a single sequence), so cost grows with the number of distinct
sequences, not persons. The :class:`Distances` object holds the distinct-by-distinct
matrix, the collapse weights (persons per distinct sequence) and each person's distinct
index; :meth:`Distances.full` expands to persons only when asked.

Computation is done by ``sequenzo`` (C++ with OpenMP, TraMineR-compatible): its OM
and OMspell distances, and the DHD distances computed here, are checked in the test suite against independent
pure-numpy dynamic programmes on random cases (equal to 1e-9). Costs are built here
(:mod:`o4o_causal.trajectories.costs`) and passed to sequenzo as explicit matrices, so
both the costs and the alignment are verified. Methods:

``"OM"``
    Optimal matching (Needleman--Wunsch edit distance): insertion/deletion ``indel``
    per month, substitution ``c(i, j)``.
``"OMspell"``
    Spell-sensitive OM (Studer & Ritschard 2016; TraMineR ``OMspell``, ``tpow = 1``):
    operations on spells ``(state, duration d)``; indel of a spell ``indel + e (d - 1)``;
    substituting spells of equal state ``e |d1 - d2|``, of different states
    ``c(i, j) + e (d1 - 1) + e (d2 - 1)`` with ``e = expcost``.
``"DHD"``
    Dynamic Hamming (Lesnard 2010): position-wise, time-varying transition-rate costs
    (timing-sensitive, no shifts). Computed here as one matrix product per block
    (sequenzo 0.1.42 segfaults on DHD with an explicit time-varying cost array).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.trajectories import costs as _costs
from o4o_causal.trajectories.seqdata import Sequences

Method = Literal["OM", "OMspell", "DHD"]
METHODS: tuple[str, ...] = ("OM", "OMspell", "DHD")
SUBSTITUTIONS: tuple[str, ...] = ("TRATE", "CONSTANT")
#: Largest number of persons :meth:`Distances.full` expands to (n x n float64 = 3.2 GB).
FULL_MAX_PERSONS = 20_000


@dataclass(frozen=True, eq=False)
class DistanceSpec:
    """How distances are computed: method, alphabet, costs and indel (no data)."""

    method: str
    alphabet: tuple[str, ...]
    costs: np.ndarray
    indel: float
    substitution: str
    expcost: float = 0.5

    def pairwise(
        self, a: np.ndarray, b: np.ndarray | None = None, *, progress: bool = False, block: int = 2000
    ) -> np.ndarray:
        """Return distances between the rows of code matrices ``a`` and ``b`` (``a`` x ``a`` when ``b`` is None)."""
        a = np.asarray(a, dtype=np.int8)
        if b is None:
            m = a.shape[0]
            out = np.zeros((m, m))
            if m < 2:
                return out
            starts = list(range(0, m, block))
            bar = tqdm(total=m * (m + 1) // 2, desc="distances", unit="pair", disable=not progress)
            for s in starts:
                e = min(s + block, m)
                piece = _sequenzo(self, a, np.arange(s, e), np.arange(s, m))
                out[s:e, s:] = piece
                out[s:, s:e] = piece.T
                bar.update((e - s) * (m - s))
            bar.close()
            np.fill_diagonal(out, 0.0)
            return out
        b = np.asarray(b, dtype=np.int8)
        both = np.vstack([a, b])
        return _sequenzo(self, both, np.arange(a.shape[0]), np.arange(a.shape[0], both.shape[0]))


def _dhd(costs: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dynamic Hamming distances ``a x b`` as one matrix product (exact, BLAS-fast).

    ``d(x, y) = sum_t C_t[x_t, y_t] = (sum_t onehot(x_t) C_t) . onehot(y)``: row ``x``
    becomes the ``T * alphabet`` vector of its cost rows, column ``y`` its one-hot code.
    """
    t, k, _ = costs.shape
    left = costs[np.arange(t)[None, :], a.astype(np.int64)].reshape(a.shape[0], t * k)
    right = np.zeros((b.shape[0], t * k))
    right[np.arange(b.shape[0])[:, None], np.arange(t)[None, :] * k + b.astype(np.int64)] = 1.0
    return np.asarray(left @ right.T)


def _sequenzo(spec: DistanceSpec, codes: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Distances ``rows x cols`` among ``codes`` by sequenzo (its console output silenced).

    DHD is computed here (:func:`_dhd`): sequenzo 0.1.42 crashes the interpreter
    (segmentation fault) on DHD with an explicit time-varying cost array.
    """
    if spec.method == "DHD":
        return _dhd(spec.costs, codes[rows], codes[cols])
    from sequenzo import SequenceData, get_distance_matrix

    t = codes.shape[1]
    names = [f"t{i}" for i in range(t)]
    frame = pd.DataFrame(np.asarray(spec.alphabet, dtype=object)[codes], columns=names)
    frame.insert(0, "_row", np.arange(len(frame)))
    kwargs: dict[str, object] = {"indel": spec.indel, "sm": spec.costs, "as_numpy": True, "quiet": True}
    if spec.method == "OMspell":
        kwargs["expcost"] = spec.expcost
    with contextlib.redirect_stdout(io.StringIO()):
        data = SequenceData(frame, time=names, states=list(spec.alphabet), id_col="_row", void=None)
        if len(rows) == len(codes) and len(cols) == len(codes):
            result = get_distance_matrix(data, method=spec.method, check_max_size=False, **kwargs)
        else:
            result = get_distance_matrix(data, method=spec.method, refseq=[rows, cols], check_max_size=False, **kwargs)
    return np.asarray(result, dtype=np.float64).reshape(len(rows), len(cols))


@dataclass(frozen=True, eq=False)
class Distances:
    """Distances between the distinct sequences of a :class:`Sequences` object.

    Attributes
    ----------
    matrix
        ``m x m`` distances between distinct sequences (read-only).
    weights
        Persons per distinct sequence (sum = ``n``).
    index
        For each person, the row of ``matrix`` of their sequence (microdata).
    distinct
        ``m x T`` codes of the distinct sequences (microdata: never export).
    spec
        :class:`DistanceSpec` (method, costs, indel) -- reused for distances to medoids.
    sequences
        The :class:`Sequences` the distances were computed from (``ids``, covariates).
    """

    matrix: np.ndarray
    weights: np.ndarray
    index: np.ndarray
    distinct: np.ndarray
    spec: DistanceSpec
    sequences: Sequences

    @property
    def ids(self) -> pd.Index:
        """Person identifiers, aligned with ``index``."""
        return self.sequences.ids

    @property
    def n(self) -> int:
        """Number of persons."""
        return int(self.index.shape[0])

    @property
    def n_distinct(self) -> int:
        """Number of distinct sequences."""
        return int(self.matrix.shape[0])

    def __repr__(self) -> str:
        """Describe without data."""
        return (
            f"Distances(method={self.spec.method!r}, substitution={self.spec.substitution!r}, "
            f"indel={self.spec.indel}, n={self.n}, distinct={self.n_distinct})"
        )

    def full(self, *, max_persons: int = FULL_MAX_PERSONS) -> np.ndarray:
        """Return the person-by-person matrix (``n x n``); refused above ``max_persons``."""
        if self.n > max_persons:
            raise SpecificationError(
                format_error(
                    what="Distances.full",
                    expected=f"at most max_persons={max_persons} persons ({max_persons**2 * 8 / 2**30:.1f} GiB)",
                    found=f"{self.n} persons ({self.n**2 * 8 / 2**30:.1f} GiB as float64)",
                    fix="work with .matrix and .weights (distinct sequences), or raise max_persons knowingly",
                )
            )
        return np.asarray(self.matrix[np.ix_(self.index, self.index)])


def distance_spec(
    seqs: Sequences,
    *,
    substitution: str | np.ndarray | pd.DataFrame = "TRATE",
    indel: float | str = 1.0,
    method: str = "OM",
    expcost: float = 0.5,
) -> DistanceSpec:
    """Validate the options of :func:`om_distances` and build the costs from ``seqs``."""
    if method not in METHODS:
        raise SpecificationError(
            format_error(what="method", expected=f"one of {list(METHODS)}", found=repr(method), fix="choose one")
        )
    a = len(seqs.alphabet)
    if isinstance(substitution, str):
        if substitution not in SUBSTITUTIONS:
            raise SpecificationError(
                format_error(
                    what="substitution",
                    expected=f"one of {list(SUBSTITUTIONS)} or a cost matrix",
                    found=repr(substitution),
                    fix="use 'TRATE' (transition rates), 'CONSTANT' or pass a matrix",
                )
            )
        if method == "DHD":
            cost = (
                _costs.dhd_costs(seqs.codes, a)
                if substitution == "TRATE"
                else np.broadcast_to(_costs.constant_costs(a), (seqs.length, a, a)).copy()
            )
        else:
            cost = _costs.trate_costs(seqs.codes, a) if substitution == "TRATE" else _costs.constant_costs(a)
        name = substitution
    else:
        arr = np.asarray(substitution, dtype=float) if not isinstance(substitution, pd.DataFrame) else None
        if method == "DHD" and arr is not None and arr.ndim == 3:
            if arr.shape != (seqs.length, a, a):
                raise SpecificationError(
                    format_error(
                        what="substitution",
                        expected=f"a {seqs.length}x{a}x{a} time-varying cost array for DHD",
                        found=f"shape {arr.shape}",
                        fix="one symmetric matrix per month",
                    )
                )
            cost = np.stack([_costs.user_costs(m, seqs.alphabet) for m in arr])
        else:
            cost = _costs.user_costs(substitution, seqs.alphabet)
            if method == "DHD":
                cost = np.broadcast_to(cost, (seqs.length, a, a)).copy()
        name = "user"
    if isinstance(indel, str):
        if indel != "auto":
            raise SpecificationError(
                format_error(what="indel", expected="a number >= 0 or 'auto'", found=repr(indel), fix="e.g. indel=1.0")
            )
        indel_value = float(cost.max()) / 2.0 if cost.size else 1.0
    else:
        indel_value = float(indel)
        if not np.isfinite(indel_value) or indel_value <= 0:
            raise SpecificationError(
                format_error(
                    what="indel",
                    expected="a positive finite cost (or 'auto' = half the largest substitution cost)",
                    found=repr(indel),
                    fix="e.g. indel=1.0 (with TRATE costs <= 2, one substitution costs at most two indels)",
                )
            )
    if not np.isfinite(expcost) or expcost < 0:
        raise SpecificationError(
            format_error(what="expcost", expected="a finite number >= 0", found=repr(expcost), fix="e.g. 0.5")
        )
    return DistanceSpec(method, seqs.alphabet, cost, indel_value, name, float(expcost))


def om_distances(
    sequences: Sequences,
    *,
    substitution: str | np.ndarray | pd.DataFrame = "TRATE",
    indel: float | str = 1.0,
    method: str = "OM",
    expcost: float = 0.5,
    progress: bool = False,
    block: int = 2000,
) -> Distances:
    """Compute dissimilarities between the distinct sequences of ``sequences``.

    Parameters
    ----------
    sequences
        From :func:`~o4o_causal.trajectories.seqdata`.
    substitution
        ``"TRATE"`` (default; ``2 - p(i->j) - p(j->i)``, time-varying for ``DHD``),
        ``"CONSTANT"`` (2) or a symmetric cost matrix (array in alphabet order, or a
        DataFrame labelled by state; ``T x a x a`` for ``DHD``).
    indel
        Insertion/deletion cost per month (OM) or spell base (OMspell); > 0, or
        ``"auto"`` = half the largest substitution cost. Unused by ``DHD``.
    method
        ``"OM"``, ``"OMspell"`` or ``"DHD"`` (module docstring).
    expcost
        OMspell's cost per month of spell-length difference.
    progress
        Show a progress bar (rows computed in blocks of ``block`` distinct sequences).
    block
        Rows per sequenzo call (bounds its temporary memory).

    Returns
    -------
    Distances
        Distinct-by-distinct matrix, weights and the person -> distinct mapping.
    """
    spec = distance_spec(sequences, substitution=substitution, indel=indel, method=method, expcost=expcost)
    unique, weights, inverse = sequences.distinct()
    matrix = spec.pairwise(unique, progress=progress, block=block)
    for arr in (matrix, weights, inverse, unique):
        arr.setflags(write=False)
    return Distances(matrix, weights, inverse, unique, spec, sequences)


__all__ = ["FULL_MAX_PERSONS", "METHODS", "DistanceSpec", "Distances", "distance_spec", "om_distances"]
