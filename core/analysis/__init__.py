"""Analyses of a trained model: each is a pure function returning a frozen dataclass.

A chart helper in `dashboard/charts/` takes that dataclass, and a page joins the two through one
cached wrapper in `dashboard/state.py` (the split of scikit-learn's `calibration_curve` and
`CalibrationDisplay`). Every pass over many images runs in batches, so its memory is bounded.
"""
