"""Datasets: Fashion-MNIST (official IDX files) and CIFAR-10 (python pickles, a folder tree, or its .tar.gz).

Where data lives: an explicit ``path``; else the environment variable ``DITHER_LAB_DATA``; else
``~/.cache/dither_lab``. Fashion-MNIST is also found where Debian's ``dataset-fashion-mnist`` installs it
(``/usr/share/datasets/fashion-mnist``). Decoded data is cached once as uint8 ``.npy`` files (memory-mapped),
so a second load is near-instant. A missing dataset raises a ValueError saying how to get it.

Arrays: images uint8 (N, C, H, W), labels int64 (N,). The embedded default is a balanced 2,000-image subset of
the Fashion-MNIST test set shipped in ``assets/`` (MIT licence), so the app works with no download.
"""

from __future__ import annotations

import gzip
import hashlib
import io as _io
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dither_lab._checks import check_choice
from dither_lab.io import atomic_write

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot"]
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DATASETS = ("fashion-mnist", "cifar10")
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
#: Per-channel mean and std on 0..255 (Fashion-MNIST measured on its training set; CIFAR-10 the usual values).
NORMALIZATION = {"fashion-mnist": ((72.94,), (90.02,)), "cifar10": ((125.3, 122.9, 113.9), (62.5, 61.9, 66.5))}
SUBSET_ASSET = "data/fashion_mnist_test_subset.npz"

HOW_TO_GET = {
    "fashion-mnist": "install Debian's package (apt-get install dataset-fashion-mnist) or put the four official "
    "*-ubyte.gz files in a folder and give it as the data path (--data on the command line, path= in Python), or "
    "set DITHER_LAB_DATA to its parent",
    "cifar10": "give as the data path (--data on the command line, path= in Python) a cifar-10-batches-py folder, a "
    "train/<class>/ + test/<class>/ image tree, or a .tar.gz of that tree, or put one in DITHER_LAB_DATA (or run "
    "`python -m dither_lab data download cifar10`)",
}


@dataclass(frozen=True)
class Dataset:
    """Images uint8 (N, C, H, W), labels int64 (N,), class names, and where they came from."""

    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    source: str

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: Any) -> Dataset:
        """The examples at ``indices`` (an index array, a range, or a slice)."""
        idx = indices if isinstance(indices, slice) else np.asarray(indices)
        return Dataset(self.name, self.split, self.images[idx], self.labels[idx], self.classes, self.source)


def data_root(path: str | os.PathLike | None = None) -> Path:
    """The data folder: ``path``, else ``$DITHER_LAB_DATA``, else ``~/.cache/dither_lab``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("DITHER_LAB_DATA")
    return Path(env) if env else Path.home() / ".cache" / "dither_lab"


def _cache_dir() -> Path:
    return data_root() / "cache"


def _cached(key: str, build: Any) -> tuple[np.ndarray, np.ndarray]:
    """Load (images, labels) from the uint8 cache, or build and cache them (atomic writes)."""
    d = _cache_dir()
    img_p, lab_p = d / f"{key}-images.npy", d / f"{key}-labels.npy"
    if img_p.is_file() and lab_p.is_file():
        try:
            return np.load(img_p, mmap_mode="r"), np.load(lab_p)
        except (ValueError, OSError):
            pass  # a damaged cache is rebuilt
    images, labels = build()
    try:
        d.mkdir(parents=True, exist_ok=True)
        atomic_write(img_p, lambda fh: np.save(fh, images, allow_pickle=False), force=True)
        atomic_write(lab_p, lambda fh: np.save(fh, labels, allow_pickle=False), force=True)
    except OSError:
        pass  # read-only cache location: still return the data
    return images, labels


def _source_key(path: Path) -> str:
    st = path.stat()
    return hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------------------------ Fashion-MNIST


def read_idx(data: bytes, *, source: str = "IDX file") -> np.ndarray:
    """Parse an (uncompressed) IDX file: magic 0x00000803 images (N, H, W) or 0x00000801 labels (N,)."""
    if len(data) < 8 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{source} is not an unsigned-byte IDX file")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(dims)):
        raise ValueError(f"{source} is truncated or padded: header says {dims}, got {len(data) - header} bytes of data")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _find_fashion_dir(path: str | os.PathLike | None) -> Path:
    candidates = [Path(path)] if path is not None else [data_root() / "fashion-mnist", data_root(), FASHION_SYSTEM_DIR]
    for c in candidates:
        if (c / FASHION_FILES["test"][0]).is_file():
            return c
    where = ", ".join(str(c) for c in candidates)
    raise ValueError(f"Fashion-MNIST not found (looked in {where}); {HOW_TO_GET['fashion-mnist']}")


def load_fashion_mnist(split: str = "test", *, path: str | os.PathLike | None = None) -> Dataset:
    """Fashion-MNIST from its official IDX .gz files (28x28 gray, 60,000 train / 10,000 test)."""
    check_choice("split", split, ("train", "test"))
    folder = _find_fashion_dir(path)
    img_f, lab_f = (folder / f for f in FASHION_FILES[split])
    for f in (img_f, lab_f):
        if not f.is_file():
            raise ValueError(f"Fashion-MNIST file {f} is missing; {HOW_TO_GET['fashion-mnist']}")

    def build() -> tuple[np.ndarray, np.ndarray]:
        try:
            images = read_idx(gzip.decompress(img_f.read_bytes()), source=str(img_f))
            labels = read_idx(gzip.decompress(lab_f.read_bytes()), source=str(lab_f))
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise ValueError(f"Fashion-MNIST file in {folder} is damaged ({exc}); {HOW_TO_GET['fashion-mnist']}") from None
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{img_f} has {images.shape[0]} images but {lab_f} has {labels.shape[0]} labels")
        return np.ascontiguousarray(images[:, None]), labels.astype(np.int64)

    images, labels = _cached(f"fashion-mnist-{split}-{_source_key(img_f)}", build)
    return Dataset("fashion-mnist", split, images, labels, FASHION_CLASSES, str(folder))


# ------------------------------------------------------------------------------------------------------ CIFAR-10


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler for the official CIFAR-10 batches: only the numpy globals an array needs are allowed."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR-10 batch")


def _read_cifar_batch(p: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(p, "rb") as fh:
            d = _SafeUnpickler(fh, encoding="bytes").load()
        data = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(d[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, ValueError, EOFError, OSError, TypeError) as exc:
        raise ValueError(f"CIFAR-10 batch {p} is not readable ({exc})") from None
    return data, labels


def _decode_image(data: bytes, source: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(_io.BytesIO(data)) as im:
            arr = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f"image {source} is not readable ({exc})") from None
    if arr.shape != (32, 32, 3):
        raise ValueError(f"image {source} is {arr.shape[1]}x{arr.shape[0]}, CIFAR-10 images are 32x32")
    return arr.transpose(2, 0, 1)


def _from_members(members: list[tuple[str, bytes]], split: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``split/<class>/<file>`` members (name, bytes) into arrays."""
    per_class: dict[str, list[tuple[str, bytes]]] = {c: [] for c in CIFAR10_CLASSES}
    for name, data in members:
        parts = Path(name).parts
        if len(parts) >= 3 and parts[-3] == split and parts[-2] in per_class:
            per_class[parts[-2]].append((name, data))
    missing = [c for c, v in per_class.items() if not v]
    if missing:
        raise ValueError(f"CIFAR-10 {split} split in {source} has no images for class(es) {', '.join(missing)}; "
                         f"expected {split}/<class>/*.jpg|png for {', '.join(CIFAR10_CLASSES)}")
    images, labels = [], []
    for label, cls in enumerate(CIFAR10_CLASSES):
        for name, data in sorted(per_class[cls]):
            images.append(_decode_image(data, f"{name} in {source}"))
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _tree_members(root: Path, split: str) -> list[tuple[str, bytes]]:
    out = []
    for cls_dir in sorted((root / split).iterdir()):
        if cls_dir.is_dir():
            for f in sorted(cls_dir.iterdir()):
                if f.suffix.lower() in (".jpg", ".jpeg", ".png"):
                    out.append((f"{split}/{cls_dir.name}/{f.name}", f.read_bytes()))
    return out


def _tar_members(path: Path, split: str) -> list[tuple[str, bytes]]:
    out = []
    try:
        with tarfile.open(path, "r:*") as tf:
            for m in tf:
                if m.isfile() and f"{split}/" in m.name and Path(m.name).suffix.lower() in (".jpg", ".jpeg", ".png"):
                    fh = tf.extractfile(m)
                    if fh is not None:
                        out.append((m.name, fh.read()))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"CIFAR-10 archive {path} is damaged or incomplete ({exc})") from None
    return out


#: What CIFAR-10 is looked for as in the data folder when no path is given.
CIFAR10_NAMES = ("cifar-10-batches-py", "cifar10-jpg.tar.gz", "cifar10")


def cifar10_locations() -> list[Path]:
    """Where CIFAR-10 is looked for when no path is given: :data:`CIFAR10_NAMES` in :func:`data_root`."""
    return [data_root() / n for n in CIFAR10_NAMES]


def _find_cifar(path: str | os.PathLike | None) -> Path:
    candidates = [Path(path)] if path is not None else cifar10_locations()
    for c in candidates:
        if c.exists():
            return c
    raise ValueError(f"CIFAR-10 not found (looked in {', '.join(map(str, candidates))}); {HOW_TO_GET['cifar10']}")


def load_cifar10(split: str = "test", *, path: str | os.PathLike | None = None) -> Dataset:
    """CIFAR-10 from the official python batches, a ``train/<class>/`` + ``test/<class>/`` tree, or its .tar.gz."""
    check_choice("split", split, ("train", "test"))
    p = _find_cifar(path)
    if p.is_dir() and (p / "data_batch_1").exists() or (p.is_dir() and (p / "test_batch").exists()):
        names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        for n in names:
            if not (p / n).is_file():
                raise ValueError(f"CIFAR-10 batch {p / n} is missing; {HOW_TO_GET['cifar10']}")

        def build() -> tuple[np.ndarray, np.ndarray]:
            parts = [_read_cifar_batch(p / n) for n in names]
            return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])

        key = _source_key(p / names[0])
    elif p.is_dir():
        if not (p / split).is_dir():
            raise ValueError(f"{p} has no {split}/ folder; {HOW_TO_GET['cifar10']}")

        def build() -> tuple[np.ndarray, np.ndarray]:
            return _from_members(_tree_members(p, split), split, str(p))

        key = _source_key(p / split)
    else:

        def build() -> tuple[np.ndarray, np.ndarray]:
            return _from_members(_tar_members(p, split), split, str(p))

        key = _source_key(p)
    images, labels = _cached(f"cifar10-{split}-{key}", build)
    return Dataset("cifar10", split, images, labels, CIFAR10_CLASSES, str(p))


# ------------------------------------------------------------------------------------------------------- common


def load_dataset(name: str, split: str = "test", *, path: str | os.PathLike | None = None) -> Dataset:
    """Load ``"fashion-mnist"`` or ``"cifar10"``."""
    check_choice("dataset", name, DATASETS)
    return load_fashion_mnist(split, path=path) if name == "fashion-mnist" else load_cifar10(split, path=path)


def balanced_indices(labels: np.ndarray, per_class: int, *, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, drawn with ``seed``, sorted."""
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if idx.size < per_class:
            raise ValueError(f"class {c} has only {idx.size} examples, fewer than per_class={per_class}")
        out.append(rng.choice(idx, size=per_class, replace=False))
    return np.sort(np.concatenate(out))


def balanced_subset(data: Dataset, count: int, *, seed: int = 0) -> Dataset:
    """``count`` examples, the same number of each class, in a seeded random order (so that the first ``k`` of them
    are mixed too); ``data`` itself when ``count`` covers it. Files sorted by class, such as a CIFAR-10 image tree,
    make a plain first-``count`` slice one or two classes."""
    k = len(data.classes)
    if count >= len(data):
        return data
    if count < k:
        raise ValueError(f"count must be at least {k} (one image per class), got {count}")
    idx = balanced_indices(np.asarray(data.labels), count // k, seed=seed)
    return data.subset(np.random.default_rng(seed).permutation(idx))


def embedded_subset() -> Dataset:
    """The balanced 2,000-image Fashion-MNIST test subset shipped in assets/ (verified against the manifest)."""
    from dither_lab.io import verified_asset

    path = verified_asset(SUBSET_ASSET)
    with np.load(path, allow_pickle=False) as z:
        images, labels = z["images"], z["labels"].astype(np.int64)
    return Dataset("fashion-mnist", "test-subset", images, labels, FASHION_CLASSES, str(path))


def normalize(images: Any, dataset: str) -> Any:
    """uint8 (N, C, H, W) torch tensor or array -> float32 standardized per channel (the models' input)."""
    import torch

    mean, std = NORMALIZATION[dataset]
    # a copy: cached datasets are read-only memory maps, which torch must not wrap
    x = torch.from_numpy(np.array(images, dtype=np.uint8)) if not isinstance(images, torch.Tensor) else images
    m = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, -1, 1, 1)
    return (x.to(torch.float32) - m) / s


__all__ = ["Dataset", "load_dataset", "load_fashion_mnist", "load_cifar10", "embedded_subset", "balanced_indices",
           "balanced_subset",
           "normalize", "data_root", "read_idx", "prepare_image", "download_cifar10"]


def prepare_image(image: np.ndarray, dataset: str) -> np.ndarray:
    """A float image in [0, 1] ((H, W) or (C, H, W)) resized to the dataset's input: uint8 (1, C, H, W)."""
    from PIL import Image

    check_choice("dataset", dataset, DATASETS)
    size, channels = (28, 1) if dataset == "fashion-mnist" else (32, 3)
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 2:
        img = img[None]
    if img.ndim != 3:
        raise ValueError(f"image must be (H, W) or (C, H, W), got shape {img.shape}")
    if channels == 1 and img.shape[0] != 1:
        img = img[:3].mean(0, keepdims=True)
    elif channels == 3 and img.shape[0] == 1:
        img = np.repeat(img, 3, axis=0)
    out = []
    for plane in img:
        u8 = (np.clip(plane, 0, 1) * 255 + 0.5).astype(np.uint8)
        out.append(np.asarray(Image.fromarray(u8).resize((size, size), Image.Resampling.BILINEAR)))
    return np.stack(out)[None]


CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"


def download_cifar10(dest: str | os.PathLike | None = None, *, url: str = CIFAR10_URL, md5: str = CIFAR10_MD5,
                     progress: bool = True) -> Path:
    """Download the official CIFAR-10 python archive (MD5-checked, resumable) and unpack ``cifar-10-batches-py``.

    Returns the batches folder, which :func:`load_cifar10` reads.
    """
    from dither_lab.io import download

    root = data_root(dest)
    archive = download(url, root / "cifar-10-python.tar.gz", md5=md5, progress=progress)
    out = root / "cifar-10-batches-py"
    if not (out / "test_batch").exists():
        try:
            with tarfile.open(archive, "r:gz") as tf:
                tf.extractall(root, filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ValueError(f"{archive} could not be unpacked ({exc})") from None
    if not (out / "test_batch").exists():
        raise ValueError(f"{archive} did not contain cifar-10-batches-py/test_batch")
    return out
