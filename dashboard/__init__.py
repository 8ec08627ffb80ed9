"""Streamlit UI of Digit Lab: navigation, sidebar, shared state and charts."""
