"""Which digit a page looks at: a test image by index, the image chosen with Inspect, or the last drawing.

Shared by Activations and What-if, so both offer the same choices under the same names (the
Embedding map's "Open in Activations" sets Activations' choice by its key and option text).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.data import MnistData
from dashboard import state

BY_INDEX, SELECTED, DRAWN = "test image by index", "image selected in Misclassifications", "last drawn digit"


@dataclass(frozen=True)
class ChosenDigit:
    image: np.ndarray  # 28×28, uint8 for a test image, floats in [0, 1] for a drawing
    true_label: int | None  # None for a drawing
    caption: str


def source_key(key_prefix: str) -> str:
    return f"{key_prefix}_source"


def choose_digit(data: MnistData, key_prefix: str) -> ChosenDigit:
    """A radio of the sources this session has, then the index when it is a test image."""
    selected = st.session_state.get(state.SELECTED_TEST_INDEX_KEY)
    drawn = st.session_state.get(state.LAST_DRAWN_DIGIT_KEY)
    sources = [BY_INDEX, *([SELECTED] if selected is not None else []), *([DRAWN] if drawn is not None else [])]
    source = st.radio("Image", sources, horizontal=True, key=source_key(key_prefix))
    if source == DRAWN:
        return ChosenDigit(np.asarray(drawn, dtype=np.float32), None, "your drawing, as the model sees it")
    default = selected if source == SELECTED else None
    # A keyed widget keeps its value when its default changes: one key per selected image.
    key = f"{key_prefix}_index" if default is None else f"{key_prefix}_index_selected_{default}"
    index = st.number_input("Test image index", 0, len(data.y_test) - 1, int(default or 0), key=key)
    label = int(data.y_test[index])
    return ChosenDigit(data.x_test[index], label, f"test image #{index} (true digit {label})")
