"""Speed and memory benchmarks; `python -m benchmarks.run` prints them and writes docs/benchmarks.md."""

from core.tf_startup import start_tensorflow

start_tensorflow()  # quietly, before keras is imported
