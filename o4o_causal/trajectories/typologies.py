"""Typologies of trajectories: Ward, PAM and CLARA on OM distances, quality, labels, shares.

:func:`typology` clusters persons into ``k`` types; :func:`quality` compares partitions
over a range of ``k`` (ASW, PBC, Hubert's C, pseudo-R-squared, pseudo-F; see
:mod:`o4o_causal.trajectories.measures`). Types are numbered by size (0 = largest) and
named automatically from their aggregate state distribution (:func:`describe_type`):

* ``"<S> throughout"`` -- one state (or two, e.g. ``WAA/WAA_M``) covers >= 80% of the
  type's person-months and the modal state of the first 3 months is also the modal
  state of the last 6;
* ``"<start> → <end>"`` -- the modal state of the last 6 months (or, when it holds
  less than 60% there, the two most frequent, e.g. ``EMP/EMP_LOW``; together >= 60%)
  differs from the modal start state;
* ``"churning A/B/C"`` -- otherwise, or when persons change state in at least 15% of
  months on average (:data:`CHURN_RATE`) and the end states hold less than 75% of the
  last 6 months: the states with >= 10% of the person-months.

States within a name are listed in alphabet order. Names that coincide get ``(1)``, ``(2)`` by size.
A type of fewer than the disclosure threshold persons is named ``"small type (n < 5)"``
(its state distribution would describe those persons).

:class:`TypologyResult` holds the type of every person (``labels``: microdata -- never
export it); its methods return aggregates only, suppressed below the disclosure
threshold. Type sizes add up to the (known) cohort size, so when the suppressed types
hold together fewer than the threshold, the next-smallest types' sizes are suppressed
too (:func:`~o4o_causal.trajectories.describe.suppress_cells`); every table showing a
type's ``n`` (shares, typical, summary, state distribution, mean time, profiles)
shows the same suppressed sizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.trajectories import cluster as _cluster
from o4o_causal.trajectories import describe as _describe
from o4o_causal.trajectories import inference
from o4o_causal.trajectories.distances import Distances, DistanceSpec, distance_spec, om_distances
from o4o_causal.trajectories.measures import HC_MAX_PAIRS, cluster_quality, quality_table
from o4o_causal.trajectories.seqdata import Sequences, require_covariate

METHODS: tuple[str, ...] = ("ward", "pam", "clara")
#: R's names of the Ward variants, accepted as ``method`` (``"ward.D"`` = ``method="ward", ward="D"``).
WARD_ALIASES: dict[str, str] = {"ward.D": "D", "ward.D2": "D2"}
THRESHOLD = config.DISCLOSURE.threshold


def _resolve_method(method: str, ward: str) -> tuple[str, str]:
    """Return ``(method, ward variant)`` with R's ``"ward.D"``/``"ward.D2"`` resolved."""
    if method in WARD_ALIASES:
        return "ward", WARD_ALIASES[method]
    return method, ward


@dataclass(frozen=True)
class _Input:
    seqs: Sequences
    spec: DistanceSpec
    distinct: np.ndarray
    weights: np.ndarray
    index: np.ndarray
    matrix: np.ndarray | None


def _prepare(x: Sequences | Distances, method: str, distance_options: Mapping[str, Any] | None) -> _Input:
    if method not in METHODS:
        raise SpecificationError(
            format_error(
                what="method",
                expected=f"one of {[*METHODS, *WARD_ALIASES]}",
                found=repr(method),
                fix="choose one",
            )
        )
    opts = dict(distance_options or {})
    if isinstance(x, Distances):
        if opts:
            raise SpecificationError(
                format_error(
                    what="distance_options",
                    expected="none when distances are passed",
                    found=repr(sorted(opts)),
                    fix="compute the distances with those options, or pass the Sequences",
                )
            )
        return _Input(x.sequences, x.spec, x.distinct, x.weights, x.index, x.matrix)
    if not isinstance(x, Sequences):
        raise DataError(
            format_error(
                what="sequences_or_distances",
                expected="a Sequences or Distances object",
                found=type(x).__name__,
                fix="build it with trajectories.seqdata(frame) (and om_distances)",
            )
        )
    if method == "clara":
        spec = distance_spec(x, **opts)
        unique, weights, inverse = x.distinct()
        return _Input(x, spec, unique, weights, inverse, None)
    d = om_distances(x, **opts)
    return _Input(x, d.spec, d.distinct, d.weights, d.index, d.matrix)


def _check_k(k: int, inp: _Input, what: str = "k") -> None:
    m = inp.distinct.shape[0]
    if m < 2:
        raise DataError(
            format_error(
                what="sequences",
                expected="at least two distinct sequences (a typology needs variation)",
                found=f"all {inp.seqs.n} sequences identical",
                fix="check the cohort selection and recoding; there is nothing to cluster",
            )
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise SpecificationError(
            format_error(what=what, expected="an integer >= 2", found=repr(k), fix="ask for at least two types")
        )
    if k > m:
        raise SpecificationError(
            format_error(
                what=what,
                expected=f"at most the number of distinct sequences ({m})",
                found=repr(k),
                fix="ask for fewer types",
            )
        )


def _distance_fn(inp: _Input) -> Any:
    if inp.matrix is not None:
        matrix = inp.matrix
        return lambda rows, cols: matrix[np.ix_(rows, cols)]
    return lambda rows, cols: (
        inp.spec.pairwise(inp.distinct[rows])
        if np.array_equal(rows, cols)
        else inp.spec.pairwise(inp.distinct[rows], inp.distinct[cols])
    )


@dataclass(frozen=True)
class _Partition:
    labels: np.ndarray  # per distinct sequence
    medoids: np.ndarray | None
    objective: float
    quality_rows: np.ndarray  # distinct rows on which quality is computed
    quality_weights: np.ndarray


def _partition(inp: _Input, k: int, method: str, seed: int, options: Mapping[str, Any], tree: Any = None) -> _Partition:
    every = np.arange(inp.distinct.shape[0])
    if method == "ward":
        assert inp.matrix is not None
        t = tree if tree is not None else _cluster.ward_tree(inp.matrix, inp.weights, variant=options.get("ward", "D2"))
        return _Partition(t.cut(k), None, float("nan"), every, inp.weights)
    if method == "pam":
        assert inp.matrix is not None
        res = _cluster.pam(inp.matrix, inp.weights, k)
        return _Partition(res.labels, res.medoids, res.objective, every, inp.weights)
    res, sample = _cluster.clara(
        _distance_fn(inp),
        inp.weights,
        k,
        samples=int(options.get("samples", 5)),
        sample_size=int(options.get("sample_size", 2000)),
        seed=seed,
        progress=bool(options.get("progress", False)),
    )
    # quality on the best sample's distinct sequences, weighted by the whole cohort's weights
    return _Partition(res.labels, res.medoids, res.objective, sample, inp.weights[sample])


def _quality_of(inp: _Input, part: _Partition) -> dict[str, float]:
    rows = part.quality_rows
    if inp.matrix is not None:
        every = rows.size == inp.matrix.shape[0] and np.array_equal(rows, np.arange(rows.size))
        d = inp.matrix if every else inp.matrix[np.ix_(rows, rows)]  # no copy of the full matrix
    else:
        d = inp.spec.pairwise(inp.distinct[rows])
    labels = part.labels[rows]
    _, labels = np.unique(labels, return_inverse=True)
    return cluster_quality(d, part.quality_weights, labels)


#: Mean state changes per person-month from which a type is called "churning".
CHURN_RATE = 0.15


def describe_type(distribution: pd.DataFrame, alphabet: Sequence[str], *, change_rate: float = 0.0) -> str:
    """Name a type from its state distribution by month (rows: months; columns: states).

    ``change_rate`` is the type's mean number of state changes per person-month; at or
    above :data:`CHURN_RATE` the type is "churning" whatever its end states.
    """
    order = {s: i for i, s in enumerate(alphabet)}

    def canonical(states: list[str]) -> str:  # alphabet order: names comparable across countries
        return "/".join(sorted(states, key=order.__getitem__))

    shares = distribution[list(alphabet)].fillna(0.0)
    overall = shares.mean(axis=0).sort_values(ascending=False)
    start = str(shares.iloc[:3].mean(axis=0).idxmax())
    end_dist = shares.iloc[-6:].mean(axis=0).sort_values(ascending=False)
    cover: list[str] = []
    total = 0.0
    for state, value in overall.items():
        cover.append(str(state))
        total += float(value)
        if total >= 0.8:
            break
    end = str(end_dist.index[0])
    if len(cover) <= 2 and start in cover and end == start and total >= 0.8:
        return f"{canonical(cover)} throughout"
    ends = [end] if float(end_dist.iloc[0]) >= 0.6 else [str(s) for s in end_dist.index[:2]]

    concentration = float(end_dist.iloc[: len(ends)].sum())
    settled = concentration >= 0.6 and (change_rate < CHURN_RATE or concentration >= 0.75)
    if settled and start not in ends:
        return f"{start} → {canonical(ends)}"
    main = [str(s) for s, v in overall.items() if v >= 0.10][:4]
    return "churning " + canonical(main)


@dataclass(frozen=True, eq=False)
class TypologyResult:
    """A typology: the type of every person plus aggregate views.

    Attributes
    ----------
    labels
        Type (0..k-1, 0 = largest) of every person, aligned with ``sequences.ids``.
        Microdata: never print, save or export it.
    names
        Automatic descriptive name of each type.
    k, method, seed
        As passed to :func:`typology`.
    sequences
        The clustered :class:`Sequences`.
    spec
        Distance specification (method, costs, indel).
    quality
        Cluster quality of this partition (``asw``, ``pbc``, ``hc``, ``r2``, ``ch``,
        ``r2sq``, ``chsq``; for CLARA on the best sample's distinct sequences).
    objective
        PAM/CLARA: weighted mean distance to the nearest medoid (NaN for Ward).
    medoid_rows
        PAM/CLARA: each type's medoid sequence (codes; microdata, see :meth:`typical`).
    """

    labels: np.ndarray
    names: tuple[str, ...]
    k: int
    method: str
    seed: int
    sequences: Sequences
    spec: DistanceSpec
    quality: pd.Series
    objective: float
    medoid_rows: np.ndarray | None
    medoid_counts: np.ndarray | None

    def __repr__(self) -> str:
        """Describe without microdata."""
        return f"TypologyResult(method={self.method!r}, k={self.k}, n={self.labels.size}, types={list(self.names)})"

    def _sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.k)

    def _hidden(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Types whose size is suppressed (primary and secondary) among the persons in ``mask``."""
        labels = self.labels if mask is None else self.labels[mask]
        return np.asarray(_describe.suppress_cells(np.bincount(labels, minlength=self.k), THRESHOLD)[0], dtype=bool)

    def _shown_n(self) -> pd.Series:
        """Type sizes as shown (``<NA>`` where suppressed), indexed by type."""
        sizes, hidden = self._sizes(), self._hidden()
        values: list[object] = [pd.NA if hidden[t] else int(sizes[t]) for t in range(self.k)]
        return pd.Series(values, index=range(self.k), dtype="Int64")

    def shares(self, *, cluster: str | None = None, ci_level: float = config.CI_LEVEL) -> pd.DataFrame:
        """Share of persons in each type with Wilson CIs (cluster-robust with ``cluster``).

        Types with fewer than the disclosure threshold persons have ``n``, share and
        interval missing; so do the next-smallest types when the suppressed ones hold
        together fewer than the threshold (else ``total`` minus the others would give
        them away).
        """
        return self._share_table(np.ones(self.labels.size, dtype=bool), cluster, ci_level)

    def _share_table(self, mask: np.ndarray, cluster: str | None, ci_level: float) -> pd.DataFrame:
        groups = _describe.cluster_groups(self.sequences, cluster, mask)
        labels = self.labels[mask]
        hidden = self._hidden(mask)
        rows = []
        for t in range(self.k):
            ind = (labels == t).astype(float)
            n_t = int(ind.sum())
            if hidden[t]:
                rows.append((t, self.names[t], np.nan, np.nan, np.nan, np.nan, np.nan))
                continue
            p, se, lo, hi = inference.share_interval(ind, groups=groups, ci_level=ci_level)
            rows.append((t, self.names[t], n_t, p, se, lo, hi))
        frame = pd.DataFrame(rows, columns=["type", "label", "n", "share", "se", "ci_low", "ci_high"])
        frame["n"] = frame["n"].astype("Int64")
        frame["total"] = int(mask.sum())
        return frame

    def by(self, column: str, *, cluster: str | None = None, ci_level: float = config.CI_LEVEL) -> pd.DataFrame:
        """Type shares within each value of covariate ``column`` (groups below the threshold left out)."""
        require_covariate(self.sequences, column)
        values = self.sequences.covariates[column]
        frames = []
        for value in sorted(values.dropna().unique().tolist(), key=str):
            mask = (values == value).to_numpy()
            if mask.sum() < THRESHOLD:
                continue
            frames.append(self._share_table(mask, cluster, ci_level).assign(**{column: value}))
        columns = [column, "type", "label", "n", "share", "se", "ci_low", "ci_high", "total"]
        if not frames:
            return pd.DataFrame(columns=columns)
        table = pd.concat(frames, ignore_index=True)
        return table[columns]

    def members(self, t: int) -> Sequences:
        """Return the sequences of type ``t`` (microdata; for the aggregate functions of ``describe``)."""
        return self.sequences.select(self.labels == t)

    def state_distribution(self, *, min_count: int = THRESHOLD) -> pd.DataFrame:
        """State distribution by month per type (index ``(type, month)``), suppressed as in ``describe``.

        Column ``n`` is the type's size as in :meth:`shares` (missing where suppressed).
        """
        parts = {t: _describe.state_distribution(self.members(t), min_count=min_count) for t in range(self.k)}
        frames = {t: f for t, f in parts.items() if len(f)}  # small types have no rows
        if not frames:
            return pd.DataFrame(columns=[*self.sequences.alphabet, "n"])
        table = pd.concat(frames, names=["type"])
        shown = self._shown_n().to_dict()
        table["n"] = pd.array([shown[t] for t in table.index.get_level_values("type")], dtype="Int64")
        return table

    def mean_time(self, *, min_count: int = THRESHOLD) -> pd.DataFrame:
        """Mean months in each state per type (column ``label``, ``n`` as in :meth:`shares`)."""
        parts = [_describe.mean_time(self.members(t), min_count=min_count).assign(type=t) for t in range(self.k)]
        frames = [f for f in parts if len(f)]  # small types have no rows
        if not frames:
            return pd.DataFrame(columns=["label", *self.sequences.alphabet, "n"])
        table = pd.concat(frames).set_index("type")
        table.insert(0, "label", [self.names[t] for t in table.index])
        shown = self._shown_n().to_dict()
        table["n"] = pd.array([shown[t] for t in table.index], dtype="Int64")
        return table

    def profiles(self) -> pd.DataFrame:
        """Aggregate profile of each type for matching across countries.

        One row per type: share of person-months in each state (``time:<state>``) and
        share in each state at the last month (``end:<state>``), plus ``n`` (as in
        :meth:`shares`), ``label``. Types below the disclosure threshold are left out.
        """
        shown = self._shown_n()
        rows = []
        for t in range(self.k):
            codes = self.sequences.codes[self.labels == t]
            a = len(self.sequences.alphabet)
            time_share = np.bincount(codes.ravel(), minlength=a) / codes.size
            end_share = np.bincount(codes[:, -1], minlength=a) / codes.shape[0]
            rows.append([t, self.names[t], codes.shape[0], *time_share, *end_share])
        cols = [f"time:{s}" for s in self.sequences.alphabet] + [f"end:{s}" for s in self.sequences.alphabet]
        frame = pd.DataFrame(rows, columns=["type", "label", "n", *cols])
        frame = frame[frame["n"] >= THRESHOLD].reset_index(drop=True)
        frame["n"] = frame["type"].map(shown).astype("Int64")
        return frame

    def typical(self) -> pd.DataFrame:
        """Per type: the modal sequence (aggregate) and, if shared by >= threshold persons, the medoid.

        ``n`` as in :meth:`shares`; a type below the disclosure threshold shows nothing.
        """
        rows: list[tuple[object, ...]] = []
        shown = self._shown_n()
        sizes = self._sizes()
        for t in range(self.k):
            if sizes[t] < THRESHOLD:
                rows.append((t, self.names[t], pd.NA, None, None, None, None))
                continue
            members = self.members(t)
            medoid = None
            if self.medoid_rows is not None and self.medoid_counts is not None and self.medoid_counts[t] >= THRESHOLD:
                medoid = _describe.spell_string(self.medoid_rows[t], self.sequences.alphabet)
            frequent = _describe.frequent_sequences(members, top=1)
            rows.append(
                (
                    t,
                    self.names[t],
                    shown[t],
                    _describe.modal_sequence(members),
                    medoid,
                    frequent["sequence"].iloc[0] if len(frequent) else None,
                    int(frequent["n"].iloc[0]) if len(frequent) else None,
                )
            )
        columns = ["type", "label", "n", "modal", "medoid", "most_frequent", "most_frequent_n"]
        table = pd.DataFrame(rows, columns=columns)
        table["n"] = table["n"].astype("Int64")
        table["most_frequent_n"] = table["most_frequent_n"].astype("Int64")
        return table

    def association(
        self,
        covariates: Sequence[str],
        *,
        data: pd.DataFrame | None = None,
        on: str = "municipality_id",
        cluster: str | None = "municipality_id",
        scale: str = "ame",
        base: int = 0,
        ci_level: float = config.CI_LEVEL,
    ) -> pd.DataFrame:
        """Multinomial logit of the type on covariates, municipality-clustered SEs, tidy table.

        Parameters
        ----------
        covariates
            Person covariates of the sequences and/or columns of ``data``; text columns
            are dummy-coded (first level dropped).
        data
            Optional table merged on ``on`` (e.g. the store's ``municipalities``: the
            municipality's service-integration configuration).
        on
            Key of ``data`` and of the sequences' covariates.
        cluster
            Covariate whose values are the clusters of the covariance (``None``: model-based).
        scale
            ``"ame"`` (average marginal effects on each type's probability) or ``"rrr"``
            (relative risk ratios against type ``base``).
        base, ci_level
            Base type for ``"rrr"``; interval level.

        Persons with a missing covariate or cluster value are left out (column
        ``dropped_missing``). Raises :class:`~o4o_causal.exceptions.ConvergenceError`
        on quasi-separation or non-convergence and
        :class:`~o4o_causal.exceptions.DisclosureError` for a type below the threshold
        (see :func:`~o4o_causal.trajectories.inference.multinomial_association`).
        """
        frame = self.sequences.covariates.reset_index(drop=True)
        if data is not None:
            require_covariate(self.sequences, on)
            if on not in data.columns:
                raise DataError(
                    format_error(what=f"column {on!r} of data", expected="present", found="missing", fix="pass on=")
                )
            extra = [c for c in covariates if c in data.columns and c != on]
            frame = frame.drop(columns=[c for c in extra if c in frame.columns]).merge(
                data[[on, *extra]].drop_duplicates(on), on=on, how="left", validate="many_to_one"
            )
        missing = [c for c in covariates if c not in frame.columns]
        if missing:
            raise DataError(
                format_error(
                    what=f"covariates {missing}",
                    expected="columns of the sequences' covariates or of data",
                    found=f"columns {list(frame.columns)[:12]}",
                    fix="pass data= with them (merged on on=)",
                )
            )
        complete = frame[list(covariates)].notna().all(axis=1).to_numpy()
        if cluster is not None:
            require_covariate(self.sequences, cluster)
            complete &= frame[cluster].notna().to_numpy()
        groups = frame[cluster].to_numpy()[complete] if cluster is not None else None
        if not 0 <= base < self.k:
            raise SpecificationError(
                format_error(what="base", expected=f"a type 0..{self.k - 1}", found=repr(base), fix="choose a type")
            )
        table = inference.multinomial_association(
            self.labels[complete],
            frame.loc[complete],
            covariates,
            names=self.names,
            cluster=groups,
            scale=scale,
            base=base,
            ci_level=ci_level,
        )
        table["dropped_missing"] = int((~complete).sum())
        return table

    def summary(self) -> pd.DataFrame:
        """One row per type: label, n, share (suppressed below threshold), modal sequence."""
        shares = self.shares()
        typical = self.typical()
        out = shares[["type", "label", "n", "share"]].copy()
        out["modal"] = typical["modal"].to_numpy()
        return out


def _name_types(seqs: Sequences, labels: np.ndarray, k: int) -> tuple[str, ...]:
    names = []
    for t in range(k):
        codes = seqs.codes[labels == t]
        if len(codes) < THRESHOLD:
            names.append(f"small type (n < {THRESHOLD})")
            continue
        dist = pd.DataFrame(
            np.stack([np.bincount(codes[:, j], minlength=len(seqs.alphabet)) for j in range(codes.shape[1])])
            / len(codes),
            columns=list(seqs.alphabet),
        )
        rate = float((np.diff(codes, axis=1) != 0).mean())
        names.append(describe_type(dist, seqs.alphabet, change_rate=rate))
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            out.append(f"{name} ({seen[name]})")
        else:
            out.append(name)
    return tuple(out)


def typology(
    sequences_or_distances: Sequences | Distances,
    *,
    k: int,
    method: str = "ward",
    seed: int = 0,
    distance_options: Mapping[str, Any] | None = None,
    ward: str = "D2",
    samples: int = 5,
    sample_size: int = 2000,
    progress: bool = False,
) -> TypologyResult:
    """Cluster sequences into ``k`` types.

    Parameters
    ----------
    sequences_or_distances
        :class:`Sequences` (distances computed with ``distance_options``, passed to
        :func:`~o4o_causal.trajectories.om_distances`) or :class:`Distances`.
    k
        Number of types (2 .. number of distinct sequences).
    method
        ``"ward"`` (weighted Ward on the distinct-sequence matrix; ``"ward.D"`` and
        ``"ward.D2"`` select the variant as in R), ``"pam"``
        (k-medoids) or ``"clara"`` (PAM on seeded samples; for large cohorts: only
        ``distinct x k`` distances beyond the samples, no full matrix).
    seed
        Seed of CLARA's samples (Ward and PAM are deterministic).
    distance_options
        Options of :func:`om_distances` (``substitution``, ``indel``, ``method``, ...).
    ward
        Ward variant: ``"D2"`` (squared dissimilarities, default) or ``"D"``.
    samples, sample_size
        CLARA: number of samples and persons per sample.
    progress
        Progress bars.

    Returns
    -------
    TypologyResult
    """
    if ward not in ("D2", "D"):
        raise SpecificationError(format_error(what="ward", expected="'D2' or 'D'", found=repr(ward), fix="choose one"))
    given = method
    method, ward = _resolve_method(method, ward)
    inp = _prepare(sequences_or_distances, method, distance_options)
    _check_k(k, inp)
    options = {"ward": ward, "samples": samples, "sample_size": sample_size, "progress": progress}
    part = _partition(inp, int(k), method, seed, options)
    person = part.labels[inp.index]
    sizes = np.bincount(person, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    labels = rank[person]
    labels.setflags(write=False)
    medoid_rows = medoid_counts = None
    if part.medoids is not None:
        medoid_rows = inp.distinct[part.medoids][order]
        medoid_counts = inp.weights[part.medoids][order]
    q = pd.Series(_quality_of(inp, part), name=f"k={k}")
    return TypologyResult(
        labels,
        _name_types(inp.seqs, labels, int(k)),
        int(k),
        given,
        int(seed),
        inp.seqs,
        inp.spec,
        q,
        part.objective,
        medoid_rows,
        medoid_counts,
    )


def quality(
    sequences_or_distances: Sequences | Distances,
    *,
    k_range: Sequence[int] = range(2, 11),
    method: str = "ward",
    seed: int = 0,
    distance_options: Mapping[str, Any] | None = None,
    ward: str = "D2",
    samples: int = 5,
    sample_size: int = 2000,
) -> pd.DataFrame:
    """Cluster quality for each ``k`` in ``k_range`` (to guide the choice of ``k``).

    ``method`` and the other options as in :func:`typology`.

    Returns
    -------
    DataFrame
        Columns ``k``, ``asw``, ``pbc``, ``hc``, ``r2``, ``ch``, ``r2sq``, ``chsq``
        (WeightedCluster's definitions, see :mod:`~o4o_causal.trajectories.measures`);
        attrs ``method`` and ``notes`` (e.g. why ``hc`` is missing). Ward builds one
        tree and cuts it at every ``k``.
    """
    given = method
    method, ward = _resolve_method(method, ward)
    inp = _prepare(sequences_or_distances, method, distance_options)
    ks = [int(k) for k in k_range]
    for k in ks:
        _check_k(k, inp, what="k_range")
    options = {"ward": ward, "samples": samples, "sample_size": sample_size}
    tree = None
    if method == "ward":
        assert inp.matrix is not None
        tree = _cluster.ward_tree(inp.matrix, inp.weights, variant=ward)
    rows = {k: _quality_of(inp, _partition(inp, k, method, seed, options, tree)) for k in ks}
    table = quality_table(rows)
    table.attrs["method"] = given
    m = int(inp.distinct.shape[0])
    if method != "clara" and m * (m - 1) // 2 > HC_MAX_PAIRS:
        table.attrs["notes"] = f"hc not computed: {m:,} distinct sequences exceed {HC_MAX_PAIRS:,} pairs"
    return table


__all__ = ["METHODS", "WARD_ALIASES", "TypologyResult", "describe_type", "quality", "typology"]
