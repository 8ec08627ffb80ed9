"""Fresh interpreters for the process tier, started together: each spends seconds of one core importing TensorFlow.

Where a test (or a module's parametrized tests) needs several independent interpreters, they run at once
(`at_once`), so the second core works too; each is still its own `subprocess.run`, with its own timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Each function called on a thread of its own, all at once; their results in order (the first error raised)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]
