"""Headless core of the digit-classifier workbench: data, models, training, evaluation, runs.

Importing this package only sets TensorFlow's environment (cheap), so import it before keras or
tensorflow. Entry points (the command line, the dashboard, the benchmarks) then call
`core.tf_startup.start_tensorflow()` to import TensorFlow without its start-up chatter: the
dashboard only once a page or a job needs a model, so Home shows before TensorFlow has loaded.
"""

from core.tf_startup import set_tensorflow_environment

set_tensorflow_environment()
