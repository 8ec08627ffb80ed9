"""Robustness curves as small multiples: one panel per perturbation, one line per model."""

from __future__ import annotations

import pandas as pd

from core.analysis.perturbations import BY_NAME
from core.analysis.robustness import RobustnessCurves
from core.figures import curves_figure  # noqa: F401  (drawn by the HTML report too)


def curves_table(results: dict[str, RobustnessCurves]) -> pd.DataFrame:
    """One row per perturbation and severity (clean once, first), one column per model."""
    columns = {}
    for label, curves in results.items():
        values = {}
        for name, severity, accuracy in curves.rows():
            perturbation = BY_NAME[name]
            row = ("clean", "0") if severity == 0 else (perturbation.label, f"{severity:g} {perturbation.unit}")
            values[row] = accuracy
        columns[label] = values
    table = pd.DataFrame(columns)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["perturbation", "severity"])
    return table
