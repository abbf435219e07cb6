"""All drawing of the suite.

Functions take result objects, accept ``ax=None`` and return the matplotlib Axes;
they never call ``plt.show()``. Where a figure needs computed data, a ``*_data``
function returns it as a DataFrame (tested by number).
"""

from __future__ import annotations

from o4o_causal.plotting.bayes import (
    caterpillar,
    caterpillar_data,
    country_contrasts_plot,
    ppc_plot,
    shrinkage_data,
    shrinkage_plot,
)
from o4o_causal.plotting.dag import dag_layout, draw_dag, overlap_plot, to_graphviz
from o4o_causal.plotting.disclosure import binned_scatter, hist
from o4o_causal.plotting.dml import (
    cate_distribution,
    cate_distribution_data,
    gate_forest,
    policy_tree_plot,
    sorted_effects_data,
    sorted_effects_plot,
)
from o4o_causal.plotting.estimates import forest, forest_data
from o4o_causal.plotting.municipal import (
    deviance_caterpillar,
    deviance_caterpillar_data,
    funnel_data,
    funnel_limits,
    funnel_plot,
)
from o4o_causal.plotting.policy import (
    event_study_data,
    event_study_plot,
    gaps_data,
    gaps_plot,
    subgroup_forest,
    subgroup_forest_data,
    synthetic_control_data,
    synthetic_control_plot,
)
from o4o_causal.plotting.qca import OUT_COLOURS, truth_table_data, truth_table_plot, xy_plot, xy_plot_data
from o4o_causal.plotting.sensitivity import sensitivity_contour, sensitivity_contour_data
from o4o_causal.plotting.simulation import bias_data, bias_plot, coverage_data, coverage_plot
from o4o_causal.plotting.trajectories import (
    country_shares_data,
    country_shares_plot,
    mean_time_data,
    mean_time_plot,
    quality_plot,
    quality_plot_data,
    transition_heatmap,
    transition_heatmap_data,
    type_chronogram,
    type_chronogram_data,
    type_chronograms,
)
from o4o_causal.plotting.world import STATE_COLOURS, calibration_plot, chronogram, configuration_heatmap

__all__ = [
    "OUT_COLOURS",
    "STATE_COLOURS",
    "bias_data",
    "bias_plot",
    "binned_scatter",
    "calibration_plot",
    "cate_distribution",
    "cate_distribution_data",
    "caterpillar",
    "caterpillar_data",
    "chronogram",
    "configuration_heatmap",
    "country_contrasts_plot",
    "country_shares_data",
    "country_shares_plot",
    "coverage_data",
    "coverage_plot",
    "dag_layout",
    "deviance_caterpillar",
    "deviance_caterpillar_data",
    "draw_dag",
    "event_study_data",
    "event_study_plot",
    "forest",
    "forest_data",
    "funnel_data",
    "funnel_limits",
    "funnel_plot",
    "gaps_data",
    "gaps_plot",
    "gate_forest",
    "hist",
    "mean_time_data",
    "mean_time_plot",
    "overlap_plot",
    "policy_tree_plot",
    "ppc_plot",
    "quality_plot",
    "quality_plot_data",
    "sensitivity_contour",
    "sensitivity_contour_data",
    "shrinkage_data",
    "shrinkage_plot",
    "sorted_effects_data",
    "sorted_effects_plot",
    "subgroup_forest",
    "subgroup_forest_data",
    "synthetic_control_data",
    "synthetic_control_plot",
    "to_graphviz",
    "transition_heatmap",
    "transition_heatmap_data",
    "truth_table_data",
    "truth_table_plot",
    "type_chronogram",
    "type_chronogram_data",
    "type_chronograms",
    "xy_plot",
    "xy_plot_data",
]
