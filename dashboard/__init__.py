"""Streamlit UI of Digit Lab: navigation, sidebar, shared state and charts.

Importing it sets TensorFlow's environment and imports no TensorFlow, so Home shows at once:
dashboard/Home.py starts TensorFlow (quietly, core.tf_startup) before any page that shows a model,
and in the background once Home has shown.
"""

from core.tf_startup import set_tensorflow_environment

set_tensorflow_environment()  # before anything imports TensorFlow
