"""Small public benchmark data sets with published results, shipped with provenance.

* :func:`load_nhefs` -- NHEFS as used in Hernán & Robins, *Causal Inference: What If*
  (ch. 12-15): effect of quitting smoking on weight gain. Published: naive difference
  2.5 kg; IP weighting 3.4 kg (95% CI 2.4-4.5); standardisation 3.5 kg (95% CI
  2.6-4.5); outcome regression 3.5 kg (95% CI 2.6-4.3).
* :func:`load_lalonde` -- LaLonde / NSW job training, 614-row MatchIt form (185 NSW
  treated + 429 PSID comparison men). Experimental benchmark ATT about USD 1,794
  (Dehejia & Wahba 1999); naive difference on this file -635.

Both files were copied from the CausalPy package data (Apache-2.0); see
``data/PROVENANCE.md``. :data:`PUBLISHED` holds the published numbers so notebooks and
tests compare against one source.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

#: Published results to reproduce: (dataset, estimator) -> value (and interval where given).
PUBLISHED: dict[tuple[str, str], dict[str, float]] = {
    ("nhefs", "naive"): {"value": 2.5},
    ("nhefs", "ipw"): {"value": 3.4, "ci_low": 2.4, "ci_high": 4.5},
    ("nhefs", "regression"): {"value": 3.5, "ci_low": 2.6, "ci_high": 4.3},
    ("nhefs", "standardisation"): {"value": 3.5, "ci_low": 2.6, "ci_high": 4.5},
    ("nhefs", "g-estimation"): {"value": 3.4},
    ("lalonde", "naive"): {"value": -635.0},
    ("lalonde", "experimental"): {"value": 1794.0},
    ("lalonde", "matchit-full-matching"): {"value": 2114.0, "se": 646.0},
}

NHEFS_CONFOUNDERS: tuple[str, ...] = (
    "age",
    "race",
    "sex",
    "smokeintensity",
    "smokeyrs",
    "wt71",
    "active_1",
    "active_2",
    "education_2",
    "education_3",
    "education_4",
    "education_5",
    "exercise_1",
    "exercise_2",
    "age^2",
    "wt71^2",
    "smokeintensity^2",
    "smokeyrs^2",
)
LALONDE_CONFOUNDERS: tuple[str, ...] = ("age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75")
#: A richer specification for the PSID comparison (columns added by :func:`add_lalonde_terms`):
#: powers of age and schooling, zero-earnings indicators and schooling x 1974 earnings, the
#: kind of terms Dehejia & Wahba (1999) added to their propensity model.
LALONDE_RICH_CONFOUNDERS: tuple[str, ...] = (
    *LALONDE_CONFOUNDERS,
    "age^2",
    "age^3",
    "educ^2",
    "u74",
    "u75",
    "educ*re74",
)


def _read(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath("data", name).open("rb") as handle:
        return pd.read_csv(handle)


def load_nhefs() -> pd.DataFrame:
    """Return NHEFS (1,566 rows): treatment ``trt`` (quit smoking), outcome ``outcome`` (kg).

    Confounders are listed in :data:`NHEFS_CONFOUNDERS` (education and activity as
    dummies with level 1 as reference, plus squared terms as in *What If*).
    """
    return _read("nhefs.csv")


def load_lalonde() -> pd.DataFrame:
    """Return LaLonde (614 rows): treatment ``treat``, outcome ``re78`` (1978 earnings, USD).

    ``race`` is expanded into 0/1 columns ``black`` and ``hispan`` (reference: white);
    ``rownames`` becomes the index ``id``.
    """
    df = _read("lalonde.csv")
    out = df.drop(columns=["white"]).rename(columns={"rownames": "id"}).set_index("id")
    out["black"] = (out["race"] == "black").astype(int)
    out["hispan"] = out["hispan"].astype(int)
    return out.drop(columns=["race"])


def add_lalonde_terms(data: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of LaLonde with the extra columns of :data:`LALONDE_RICH_CONFOUNDERS`.

    ``age^2``, ``age^3``, ``educ^2``, ``u74``/``u75`` (1 if earnings in 1974/1975 were
    zero) and ``educ*re74``. The input is not modified.
    """
    out = data.copy()
    out["age^2"] = out["age"] ** 2
    out["age^3"] = out["age"] ** 3
    out["educ^2"] = out["educ"] ** 2
    out["u74"] = (out["re74"] == 0).astype(int)
    out["u75"] = (out["re75"] == 0).astype(int)
    out["educ*re74"] = out["educ"] * out["re74"]
    return out


def provenance() -> str:
    """Return the provenance note of the shipped data sets."""
    return resources.files(__package__).joinpath("data", "PROVENANCE.md").read_text(encoding="utf-8")


__all__ = [
    "LALONDE_CONFOUNDERS",
    "LALONDE_RICH_CONFOUNDERS",
    "NHEFS_CONFOUNDERS",
    "PUBLISHED",
    "add_lalonde_terms",
    "load_lalonde",
    "load_nhefs",
    "provenance",
]
