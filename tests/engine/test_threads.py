"""Several callers evaluating at once (threads, app sessions) get correct results, and the engine stays alive."""

import threading

import numpy as np
import pytest
import torch

from dither_lab.engine import compile_model
from dither_lab.nn.models import build_model


@pytest.fixture(scope="module")
def program():
    torch.manual_seed(1)
    m = build_model("fmnist-net", in_channels=1, image_size=28, width=0.25, activation="design")
    m.train()
    with torch.no_grad():
        m(torch.randn(8, 1, 28, 28))
    return compile_model(m.eval())


def test_concurrent_callers(program):
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((9, 1, 28, 28)).astype(np.float32) for _ in range(6)]
    expected = [program.predict(x) for x in inputs]
    expected_acts = program.binary_activations(inputs[0])
    errors: list[BaseException] = []
    results: dict[tuple[int, int], np.ndarray] = {}

    def worker(k: int) -> None:
        try:
            for rep in range(4):
                results[(k, rep)] = program.predict(inputs[k], threads=1 + (k + rep) % 3)
            acts = program.binary_activations(inputs[0], threads=2)
            assert all(np.array_equal(acts[n], expected_acts[n]) for n in expected_acts)
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]
    for (k, _), got in results.items():
        assert got.tobytes() == expected[k].tobytes()
    assert len(results) == 24


def test_thread_setting(program):
    assert program.threads == 1
    program.threads = 2
    try:
        assert program.threads == 2
    finally:
        program.threads = 1
    for bad in (0, -1, 1.5, True, 10_000):
        with pytest.raises(ValueError, match="threads must be an integer"):
            program.threads = bad
        with pytest.raises(ValueError, match="threads must be an integer"):
            program.predict(np.zeros((1, 1, 28, 28), np.float32), threads=bad)
    with pytest.raises(ValueError, match="batch_size must be"):
        program.predict(np.zeros((1, 1, 28, 28), np.float32), batch_size=0)


def test_threads_share_one_pool_and_keep_the_batch_order(program):
    # A pool started and joined on every call cost about 0.6 ms: as much as a small layer's batch, so two threads
    # ran no faster than one
    import torch

    from dither_lab import _threads
    from dither_lab.activation.dithered import dithered_sign
    from dither_lab.engine import program as P
    from dither_lab.kernels import as_kernel, tile

    x = np.random.default_rng(2).standard_normal((7, 1, 28, 28)).astype(np.float32)
    one = program.predict(x, threads=1)
    np.testing.assert_array_equal(program.predict(x, threads=3), one)
    pool = _threads.workers()
    np.testing.assert_array_equal(program.predict(x, threads=2), one)
    assert _threads.workers() is pool
    assert P._in_chunks(lambda part: part.sum(), np.arange(10), np.array_split(np.arange(10), 3)) == [6, 15, 24]
    # the float path's fused dithered Sign splits its rows on the same pool
    t = torch.from_numpy(np.random.default_rng(3).standard_normal((64, 8, 32, 32)).astype(np.float32))
    thr = torch.from_numpy(tile(as_kernel("bayer:4").values, 32, 32).astype(np.float32))
    torch.testing.assert_close(dithered_sign(t, "bayer:4"), torch.where(t >= thr, 1.0, -1.0), rtol=0, atol=0)
    assert _threads.workers() is pool


def test_the_arrays_the_loops_read_start_on_a_cache_line(program):
    # Where an array happened to start moved a network's time by up to 10% from one compiled program to the next
    from dither_lab.engine.program import _aligned

    prep = program._prep()
    panels = [v["wp"] for k, v in prep.items() if isinstance(k, int) and "wp" in v]
    assert panels and all(a.ctypes.data % 64 == 0 for a in [*panels, *prep["arrays"].values()] if a.size)
    for a in (np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2], np.zeros((0, 3)), np.uint64([1, 2, 3])):
        b = _aligned(a)
        assert (b.ctypes.data % 64 == 0 or not b.size) and b.flags.c_contiguous and b.dtype == a.dtype
        np.testing.assert_array_equal(b, a)
