"""Streamlit UI of Digit Lab: navigation, sidebar, shared state and charts."""

from core.tf_startup import start_tensorflow

start_tensorflow()  # quietly, before any page imports keras
