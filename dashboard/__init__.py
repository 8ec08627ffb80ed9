"""Streamlit UI of Digit Lab: navigation, sidebar, shared state and charts."""

import core  # noqa: F401  (sets TensorFlow's environment before any page imports keras)
