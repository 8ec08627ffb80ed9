"""Speed and memory benchmarks; `python -m benchmarks.run` prints them and writes docs/benchmarks.md."""

import core  # noqa: F401  (sets TensorFlow's environment before keras is imported)
