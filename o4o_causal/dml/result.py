"""The immutable result of :func:`~o4o_causal.dml.estimate_cate`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal._inference import if_se
from o4o_causal.dml import forest as _forest
from o4o_causal.dml import heterogeneity as _het
from o4o_causal.dml.nuisance import CLIP, Nuisance, report
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate

if TYPE_CHECKING:
    from o4o_causal.dml.policy import PolicyTreeResult

#: Above this many distinct values a numeric ``by`` must be binned (``bins=``).
MAX_GROUPS = 30


@dataclass(frozen=True, repr=False)
class CateResult:
    """Conditional average treatment effects by causal-forest DML, with clustered inference.

    Built by :func:`~o4o_causal.dml.estimate_cate`; never construct it directly. Arrays
    are read-only. Averages (ATE, ATT, GATEs, the heterogeneity tests and the policy
    value) come from the doubly robust scores, with standard errors summed within
    ``cluster`` (cluster-robust) when a cluster was given. Pointwise CATE intervals are
    EconML's bootstrap-of-little-bags intervals, which are *not* cluster-robust.

    ``tau`` holds CATE predictions for the fitted persons cross-fitted over whole
    municipalities (honest input for the heterogeneity tests); ``cate()`` gives the full
    forest's predictions. ``y, d, x, kept`` are microdata: never export the object itself.
    """

    outcome: str
    treatment: str
    effect_modifiers: tuple[str, ...]
    controls: tuple[str, ...]
    cluster: str | None
    learner: str
    folds: int
    seed: int
    ci_level: float
    y: np.ndarray = field(repr=False)
    d: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    psi: np.ndarray = field(repr=False)
    nuisance: Nuisance = field(repr=False)
    clusters: np.ndarray | None = field(repr=False)
    kept: pd.DataFrame = field(repr=False)
    forest: Any = field(repr=False)
    forest_rows: int = 0
    forest_options: dict[str, Any] = field(default_factory=dict, repr=False)
    progress: bool = field(default=False, repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @cached_property
    def tau(self) -> np.ndarray:
        """CATE predictions for the fitted persons, cross-fitted over whole municipalities.

        Computed on first use (a forest per group of folds) and cached; seeded, so
        identical on every call. Input of the heterogeneity tests.
        """
        return _forest.crossfit(
            self.x,
            np.asarray(self.d - self.nuisance.m),
            np.asarray(self.y - self.nuisance.l),
            self.nuisance.fold,
            seed=self.seed,
            options=self.forest_options,
            progress=self.progress,
        )

    @property
    def n(self) -> int:
        """Number of persons."""
        return int(self.y.size)

    @property
    def n_clusters(self) -> int | None:
        """Number of clusters (``None`` without clustering)."""
        return None if self.clusters is None else int(self.clusters.max()) + 1

    def _cl(self, clustered: bool) -> np.ndarray | None:
        return self.clusters if clustered else None

    def _method(self, clustered: bool) -> str:
        tail = f", cluster={self.cluster}" if clustered and self.cluster else ", unclustered"
        return f"causal-forest DML ({self.learner}{tail})"

    def ate(self, *, clustered: bool = True) -> Estimate:
        """Average treatment effect: mean doubly robust score, cluster-robust SE by default.

        Parameters
        ----------
        clustered
            ``False`` gives the naive i.i.d. standard error (for comparison only).
        """
        value = float(self.psi.mean())
        se = if_se(self.psi - value, self._cl(clustered))
        return Estimate.from_normal(
            value, se, n=self.n, method=self._method(clustered), ci_level=self.ci_level, estimand="ATE"
        )

    def att(self, *, clustered: bool = True) -> Estimate:
        """Average effect on the treated (doubly robust score of the ATT)."""
        e = np.clip(self.nuisance.m, CLIP, 1 - CLIP)
        p = float(self.d.mean())
        resid = self.y - self.nuisance.g0
        score = (self.d * resid - (1 - self.d) * e / (1 - e) * resid) / p
        value = float(score.mean())
        infl = score - self.d * value / p
        se = if_se(infl, self._cl(clustered))
        return Estimate.from_normal(
            value, se, n=self.n, method=self._method(clustered), ci_level=self.ci_level, estimand="ATT"
        )

    def _source(self, data: pd.DataFrame | None, what: str) -> pd.DataFrame:
        """Return ``data`` (checked to be the fitted rows, in order) or the kept columns."""
        if data is None:
            return self.kept
        if len(data) != self.n or not data.index.equals(self.kept.index):
            raise DataError(
                format_error(
                    what=f"data passed to {what}",
                    expected=f"the frame used to fit ({self.n} rows, same index in the same order)",
                    found=f"{len(data)} rows" + ("" if len(data) != self.n else " with a different index or order"),
                    fix="pass the exact frame given to estimate_cate (or use keep=[...] when fitting)",
                )
            )
        return data

    def _groups(
        self, by: str | Sequence[str] | np.ndarray | pd.Series, data: pd.DataFrame | None, bins: int | None
    ) -> tuple[np.ndarray, list[str]]:
        """Return integer group codes (ordered by value) and their labels."""
        if isinstance(by, str | list | tuple):
            cols = [by] if isinstance(by, str) else list(by)
            source = self._source(data, "gate")
            missing = [c for c in cols if c not in source.columns]
            if missing:
                raise DataError(
                    format_error(
                        what=f"by={by!r}",
                        expected="columns of the fitted data kept in the result, or of `data`",
                        found=f"missing {missing} (kept: {', '.join(map(str, self.kept.columns))})",
                        fix="pass keep=[...] to estimate_cate, or gate(by, data=<the frame used to fit>)",
                    )
                )
            frame = source[cols].reset_index(drop=True)
        else:
            if isinstance(by, pd.Series) and not by.index.equals(self.kept.index):
                raise DataError(
                    format_error(
                        what="by (a Series)",
                        expected="the index of the fitted data",
                        found="a different index or order",
                        fix="align it with the frame used to fit, or pass .to_numpy()",
                    )
                )
            values = np.asarray(by)
            if values.shape != (self.n,):
                raise DataError(
                    format_error(
                        what="by",
                        expected=f"an array of length {self.n}",
                        found=f"shape {values.shape}",
                        fix="align it with the fitted data",
                    )
                )
            frame = pd.DataFrame({"group": values})
        parts: list[pd.Series] = []
        for col in frame.columns:
            s = frame[col]
            if s.isna().any():
                raise DataError(
                    format_error(
                        what=f"by column {col!r}",
                        expected="no missing values",
                        found=f"{int(s.isna().sum())} missing",
                        fix="fill them (e.g. with 'unknown') or pass an array",
                    )
                )
            if pd.api.types.is_numeric_dtype(s) and s.nunique() > MAX_GROUPS:
                if bins is None:
                    raise SpecificationError(
                        format_error(
                            what=f"by column {col!r}",
                            expected=f"at most {MAX_GROUPS} distinct values",
                            found=f"{s.nunique()} (continuous)",
                            fix="pass bins=<number of quantile groups>",
                        )
                    )
                # quantile groups labelled by rank only: interval labels would show min/max values
                q = pd.qcut(s, bins, labels=False, duplicates="drop").to_numpy()
                width = len(str(int(q.max()) + 1))
                s = pd.Series([f"{col} Q{int(v) + 1:0{width}d}" for v in q])
            parts.append(s)
        keys = pd.MultiIndex.from_frame(pd.DataFrame({i: p for i, p in enumerate(parts)}))
        codes, uniques = pd.factorize(keys, sort=True)
        labels = [" | ".join(map(str, u)) if isinstance(u, tuple) else str(u) for u in uniques]
        return np.asarray(codes, dtype=np.int64), labels

    def gate(
        self,
        by: str | Sequence[str] | np.ndarray | pd.Series,
        *,
        data: pd.DataFrame | None = None,
        bins: int | None = None,
        clustered: bool = True,
    ) -> pd.DataFrame:
        """Group average treatment effects from the doubly robust scores.

        Parameters
        ----------
        by
            Column name(s) kept in the result (effect modifiers, cluster and ``keep``
            columns), columns of ``data``, or an array aligned with the fitted rows.
            Several columns give their crossing.
        data
            The frame used to fit, when ``by`` names a column that was not kept.
        bins
            Quantile groups for a continuous ``by`` (labelled by rank, never by value).
        clustered
            Cluster-robust standard errors (default) or naive ones.

        Returns
        -------
        DataFrame
            One row per group (ordered by value): ``group, n, clusters, estimate, se,
            ci_low, ci_high, p_value, suppressed``. Groups with fewer persons than the
            disclosure threshold are suppressed (NaN estimate); groups within fewer than
            two clusters get no standard error. ``attrs['equality']`` is the Wald test
            that all reported group effects are equal.
        """
        codes, labels = self._groups(by, data, bins)
        cl = self._cl(clustered)
        fit, levels = _het.group_means(self.psi, codes, cl)
        table = _het.coef_table(fit, [labels[int(v)] for v in levels], self.ci_level).rename(columns={"term": "group"})
        n = np.bincount(codes, minlength=len(labels))[levels]
        table.insert(1, "n", n)
        if self.clusters is not None:
            pairs = pd.DataFrame({"g": codes, "c": self.clusters}).drop_duplicates()
            n_cl = pairs.groupby("g")["c"].size().reindex(levels).to_numpy()
            table.insert(2, "clusters", n_cl)
            if clustered:
                table.loc[n_cl < 2, ["se", "ci_low", "ci_high", "p_value"]] = np.nan
        suppressed = n < config.DISCLOSURE.threshold
        table.loc[suppressed, ["estimate", "se", "ci_low", "ci_high", "p_value"]] = np.nan
        table["suppressed"] = suppressed
        usable = ~table[["estimate", "se"]].isna().any(axis=1).to_numpy()
        table.attrs["equality"] = _het._equality(fit, usable)
        table.attrs["by"] = by if isinstance(by, str | list | tuple) else "array"
        return table

    def cate(self, data: pd.DataFrame | None = None, *, interval: bool = True) -> pd.DataFrame:
        """CATE predictions of the full forest, with pointwise intervals (not cluster-robust).

        Parameters
        ----------
        data
            Persons with the effect-modifier columns; default the fitted persons.
        interval
            Add ``ci_low``/``ci_high`` (bootstrap of little bags; slower).

        Notes
        -----
        The heterogeneity tests use :attr:`tau` instead: predictions cross-fitted over
        whole municipalities, which are noisier but honest for inference.
        """
        if data is None:
            x = self.x
        else:
            missing = [c for c in self.effect_modifiers if c not in data.columns]
            if missing:
                raise DataError(
                    format_error(
                        what="data",
                        expected=f"effect-modifier columns {list(self.effect_modifiers)}",
                        found=f"missing {missing}",
                        fix="add them",
                    )
                )
            x = data[list(self.effect_modifiers)].to_numpy(dtype=np.float64)
            if not np.isfinite(x).all():
                raise DataError(
                    format_error(
                        what="effect modifiers in data",
                        expected="finite values",
                        found=f"{int((~np.isfinite(x)).any(axis=1).sum())} rows with missing or infinite values",
                        fix="drop or impute them",
                    )
                )
        if not interval:
            return pd.DataFrame({"cate": _forest.predict(self.forest, x)})
        point, low, high = _forest.predict_interval(self.forest, x, alpha=1 - self.ci_level)
        return pd.DataFrame({"cate": point, "ci_low": low, "ci_high": high})

    def blp(self, *, method: str = "dr", clustered: bool = True) -> pd.DataFrame:
        """Best linear predictor of the CATE on the effect modifiers (cluster-robust).

        ``method="dr"`` projects the doubly robust scores (the population BLP);
        ``"linear_dml"`` is the linear-DML final stage (variance-weighted).
        """
        cl = self._cl(clustered)
        if method == "dr":
            return _het.blp(self.psi, self.x, self.effect_modifiers, cl, self.ci_level)
        if method == "linear_dml":
            t_res = self.d - self.nuisance.m
            y_res = self.y - self.nuisance.l
            return _het.linear_dml(y_res, t_res, self.x, self.effect_modifiers, cl, self.ci_level)
        raise SpecificationError(
            format_error(what="method", expected="'dr' or 'linear_dml'", found=repr(method), fix="pick one")
        )

    def calibration(self) -> pd.DataFrame:
        """Calibration test of the CATE predictions (b1 = ATE, b2 = heterogeneity loading)."""
        return _het.calibration(self.psi, np.asarray(self.tau), self.clusters, self.ci_level)

    def sorted_effects(self, q: int = 5) -> pd.DataFrame:
        """Group effects by quantile of the predicted CATE (least to most affected)."""
        return _het.sorted_effects(self.psi, np.asarray(self.tau), self.clusters, q, self.ci_level, self.seed)

    def clan(self, q: int = 5, *, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Characteristics of the most and least affected (top vs bottom CATE quantile)."""
        frame = self.kept if columns is None else self.kept[list(columns)]
        frame = frame.drop(columns=[c for c in [self.cluster] if c and c in frame.columns])
        return _het.clan(frame, np.asarray(self.tau), self.clusters, q, self.ci_level, self.seed)

    def heterogeneity_test(self, q: int = 5) -> pd.DataFrame:
        """Is there heterogeneity the model can find? Three tests in one table.

        Calibration slope b2 (H0: b2 = 0), most minus least affected quantile group
        (H0: 0), and the joint test that all quantile-group effects are equal.
        """
        cal = self.calibration().iloc[1]
        gates = self.sorted_effects(q)
        tmb = gates.attrs["top_minus_bottom"]
        eq = gates.attrs["equality"]
        return pd.DataFrame(
            [
                {
                    "test": "calibration slope b2 (H0: b2 = 0)",
                    "statistic": cal["estimate"],
                    "se": cal["se"],
                    "p_value": cal["p_value"],
                },
                {
                    "test": f"Q{q} - Q1 sorted effects (H0: 0)",
                    "statistic": tmb["estimate"],
                    "se": tmb["se"],
                    "p_value": tmb["p_value"],
                },
                {
                    "test": f"all {q} sorted effects equal (chi2, df={int(eq['df'])})",
                    "statistic": eq["chi2"],
                    "se": np.nan,
                    "p_value": eq["p_value"],
                },
            ]
        )

    def nuisance_report(self) -> pd.DataFrame:
        """Out-of-fold R² of the outcome models, propensity AUC/Brier and overlap."""
        return report(self.y, self.d, self.nuisance)

    def policy_tree(
        self,
        depth: int = 2,
        *,
        features: Sequence[str] | None = None,
        cost: float = 0.0,
        min_leaf: int | None = None,
        data: pd.DataFrame | None = None,
    ) -> PolicyTreeResult:
        """Who should get the treatment? A shallow policy tree on the doubly robust scores.

        See :func:`o4o_causal.dml.policy.policy_tree`.
        """
        from o4o_causal.dml.policy import policy_tree

        return policy_tree(self, depth=depth, features=features, cost=cost, min_leaf=min_leaf, data=data)

    def summary(self) -> pd.DataFrame:
        """ATE (clustered and naive) and ATT in one table."""
        rows = [self.ate(), self.att()]
        if self.cluster:
            rows.insert(1, self.ate(clustered=False))
        table = pd.concat([r.to_frame() for r in rows], ignore_index=True)
        return table

    def __repr__(self) -> str:
        a = self.ate()
        cl = f", {self.n_clusters} clusters ({self.cluster})" if self.cluster else ""
        return (
            f"CateResult({self.outcome} ~ {self.treatment} | {len(self.effect_modifiers)} effect modifiers, "
            f"{len(self.controls)} controls; n={self.n}{cl}; ATE {a.value:.4f} "
            f"[{a.ci_low:.4f}, {a.ci_high:.4f}]; CATE sd {float(np.std(self.tau)):.4f})"
        )
