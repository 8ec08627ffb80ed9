"""The saliency panel: method, baseline and question ("why 7?" / "why not 1?"), and the overlay.

Shown under the gallery's selected image, on Activations and (behind a toggle) on Draw. It explains
the active model itself: an ensemble's average, an upload through its adapter.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.analysis.saliency import BASELINES, METHODS
from dashboard import saliency_charts, state

WHY, WHY_NOT = "why {}?", "why not {}?"


def question_options(predicted: int) -> list[tuple[int, int | None]]:
    """(target, contrast) per question: "why <predicted>?" first, then "why not <d>?" for each other digit."""
    return [(predicted, None)] + [(predicted, digit) for digit in range(10) if digit != predicted]


def question_label(option: tuple[int, int | None]) -> str:
    target, contrast = option
    return WHY.format(target) if contrast is None else WHY_NOT.format(contrast)


def saliency_panel(active: state.ActiveModel, image: np.ndarray, predicted: int, key: str) -> None:
    """Controls and the overlay for one image; `key` keeps each page's choices apart."""
    methods = list(METHODS) if state.model_convolves(active) else [m for m in METHODS if m != "Grad-CAM"]
    controls = st.columns([2, 1, 1])
    method = (
        controls[0].segmented_control("Saliency method", methods, default=methods[0], key=f"{key}_saliency_method")
        or methods[0]
    )
    option = controls[1].selectbox(
        "Question", question_options(predicted), format_func=question_label, key=f"{key}_saliency_question_{predicted}"
    )
    baseline = controls[2].selectbox(
        "Baseline", BASELINES, key=f"{key}_saliency_baseline", disabled=method != "integrated gradients"
    )
    target, contrast = option
    saliency_map = state.saliency_of(active, image, method, target, contrast, baseline)
    image_column, text_column = st.columns([1, 2])
    with image_column:
        st.image(saliency_charts.overlay_png(image, saliency_map), width=224)
        st.html(saliency_charts.colour_scale_html(saliency_map))
    text_column.caption(saliency_charts.describe(saliency_map))
    if len(methods) < len(METHODS):
        text_column.caption("Grad-CAM needs a convolution; this model has none.")
    if saliency_map.method == "Grad-CAM" and not saliency_map.attributions.any():
        text_column.caption("Nothing in the last convolutional block speaks for this class.")
