"""Speed and memory benchmarks; `python -m benchmarks.run` prints them and writes docs/benchmarks.md."""
