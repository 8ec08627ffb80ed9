"""TensorFlow's start-up chatter on stderr, as the quiet-start tests look for it."""

import re

# TensorFlow's C++ log lines ("E0000 00:00:1795764036.545291 7056 cuda_platform.cc:52] ...") and their themes.
CHATTER = re.compile(r"^[IWEF]\d{4} |cuInit|CUDA|cuda|absl|oneDNN", re.MULTILINE)
