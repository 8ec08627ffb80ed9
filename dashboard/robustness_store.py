"""Robustness curves measured on this server, kept per model, data and sample size.

Measuring takes seconds to a minute, with a progress bar, in the script run that asked: the result
is stored here (not in st.cache_data, whose replay of the progress bar would be wrong) and every
session reads it afterwards.
"""

from __future__ import annotations

import threading

import streamlit as st

from core.analysis.robustness import RobustnessCurves

MAX_ENTRIES = 32


@st.cache_resource
def _results() -> tuple[dict, threading.Lock]:
    return {}, threading.Lock()


def stored(model_key: str, data_description: str, size: int | None) -> RobustnessCurves | None:
    results, lock = _results()
    with lock:
        return results.get((model_key, data_description, size))


def store(model_key: str, data_description: str, size: int | None, curves: RobustnessCurves) -> None:
    results, lock = _results()
    with lock:
        results[(model_key, data_description, size)] = curves
        while len(results) > MAX_ENTRIES:
            results.pop(next(iter(results)))
