"""One shared pool of worker threads for the numba loops that release the GIL (the packed engine's batch chunks,
the fused dithered Sign's rows): starting and joining threads on every call cost about 0.6 ms, as much as a small
layer's whole batch."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

_POOL: list[ThreadPoolExecutor] = []  # made at first use
_POOL_LOCK = threading.Lock()


def workers() -> ThreadPoolExecutor:
    """The shared worker pool (as many threads as CPUs; each starts when first needed)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1), thread_name_prefix="dither_lab"))
        return _POOL[0]


if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads: it starts its own pool
    os.register_at_fork(after_in_child=_POOL.clear)


def run_all(calls: list[Callable[[], Any]]) -> list[Any]:
    """Each of ``calls`` at the same time, the first on the calling thread (so a caller never waits on a pool it
    fills), the others on the shared pool; their results in order."""
    if len(calls) == 1:
        return [calls[0]()]
    futures = [workers().submit(c) for c in calls[1:]]
    return [calls[0]()] + [f.result() for f in futures]
