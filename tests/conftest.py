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
