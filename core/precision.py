"""Training in bfloat16 where the CPU computes it natively, and the float32 model every reader gets.

Under Keras' "mixed_bfloat16" policy the layers compute in bfloat16 and keep float32 weights. On a CPU
with native bfloat16 (AVX512_BF16 or AMX) that halves the bytes each convolution moves: fast_cnn's training
steps ran at 1.22x the images/s of float32 on an AMD EPYC with AVX512_BF16, at the same accuracy after its
one epoch (docs/benchmarks.md, sections 1 and 12). Without native support bfloat16 is emulated and slower,
so "auto" takes it only where the CPU has it. The model handed on after training is always float32: the
pages, the API and the gradients read float32 activations, as from every other run.
"""

from __future__ import annotations

from pathlib import Path

import keras

BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo names of native bfloat16 arithmetic


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo is not there to read."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def training_precision(precision: str, flags: frozenset[str] | None = None) -> str:
    """The Keras dtype policy to train with: `precision` itself, or for "auto" bfloat16 only on native hardware."""
    if precision != "auto":
        return precision
    flags = cpu_flags() if flags is None else flags
    return "mixed_bfloat16" if any(flag in flags for flag in BFLOAT16_CPU_FLAGS) else "float32"


def with_dtype_policy(model: keras.Sequential, policy: str) -> keras.Sequential:
    """A copy of a Sequential model (fresh weights) whose layers use `policy`, but its output layer float32.

    The softmax and the loss stay in float32, as Keras' mixed-precision guide advises.
    """
    output = model.layers[-1]

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        dtype = "float32" if layer is output else policy
        return layer.__class__.from_config({**layer.get_config(), "dtype": dtype})

    return keras.models.clone_model(model, clone_function=clone)
