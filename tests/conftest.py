import numpy as np
import pytest
import torch


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def cifar_tree(rng):
    """Writes a small CIFAR-10 image tree (train/<class>/ and test/<class>/ PNGs, sorted by class) and returns its root."""
    import io

    from PIL import Image

    from dither_lab.data import CIFAR10_CLASSES

    def make(root, per_class=2, skip_class=None):
        for split in ("train", "test"):
            for c in CIFAR10_CLASSES:
                if c == skip_class:
                    continue
                d = root / split / c
                d.mkdir(parents=True)
                for i in range(per_class):
                    buf = io.BytesIO()
                    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, format="PNG")
                    (d / f"{i:04d}.png").write_bytes(buf.getvalue())
        return root

    return make


@pytest.fixture(scope="session")
def fashion_idx_dir(tmp_path_factory):
    """A Fashion-MNIST folder of official-format IDX .gz files made from the embedded 2,000-image subset (train and
    test alike), so that training commands run on a machine without the full dataset."""
    import gzip

    from dither_lab.data import FASHION_FILES, embedded_subset

    def idx(arr: np.ndarray) -> bytes:
        head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
        return head + arr.astype(np.uint8).tobytes()

    sub = embedded_subset()
    folder = tmp_path_factory.mktemp("fashion-mnist")
    for img_f, lab_f in FASHION_FILES.values():
        (folder / img_f).write_bytes(gzip.compress(idx(np.asarray(sub.images)[:, 0])))
        (folder / lab_f).write_bytes(gzip.compress(idx(np.asarray(sub.labels))))
    return folder


@pytest.fixture
def fashion_full_dir():
    """The full Fashion-MNIST IDX files (Debian's dataset-fashion-mnist), for the few checks that need the whole
    test set: without them the test is skipped, saying why, except in CI (CI=true), where .ci/run installs them."""
    import os

    from dither_lab.data import FASHION_FILES, FASHION_SYSTEM_DIR

    if not (FASHION_SYSTEM_DIR / FASHION_FILES["test"][0]).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{FASHION_SYSTEM_DIR} is missing: .ci/run must install Debian's dataset-fashion-mnist")
        pytest.skip("needs the full Fashion-MNIST test set: apt-get install dataset-fashion-mnist (CI installs it)")
    return FASHION_SYSTEM_DIR
