import gzip
import pickle
import tarfile

import numpy as np
import pytest

from dither_lab import data as D


@pytest.fixture(autouse=True)
def isolated_data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("DITHER_LAB_DATA", str(tmp_path / "data_root"))


def _idx(arr: np.ndarray) -> bytes:
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def _fashion_folder(path, n=20, rng=None):
    rng = rng or np.random.default_rng(0)
    path.mkdir(parents=True)
    for img_f, lab_f in D.FASHION_FILES.values():
        (path / img_f).write_bytes(gzip.compress(_idx(rng.integers(0, 256, (n, 28, 28)))))
        (path / lab_f).write_bytes(gzip.compress(_idx(np.arange(n) % 10)))
    return path


def test_read_idx_and_errors():
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(D.read_idx(_idx(arr)), arr)
    with pytest.raises(ValueError, match="truncated"):
        D.read_idx(_idx(arr)[:-1])
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        D.read_idx(b"hello world")


def test_fashion_mnist_from_folder_and_cache(tmp_path):
    folder = _fashion_folder(tmp_path / "fm")
    ds = D.load_fashion_mnist("test", path=folder)
    assert ds.images.shape == (20, 1, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.tolist() == [i % 10 for i in range(20)]
    cached = list((tmp_path / "data_root" / "cache").glob("fashion-mnist-test-*-images.npy"))
    assert len(cached) == 1
    again = D.load_fashion_mnist("test", path=folder)
    assert isinstance(again.images, np.memmap)
    np.testing.assert_array_equal(again.images, ds.images)


def test_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(ValueError, match="dataset-fashion-mnist"):
        D.load_fashion_mnist("test", path=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="cifar-10-batches-py"):
        D.load_cifar10("test", path=tmp_path / "nowhere")


def test_damaged_gzip_is_a_clear_error(tmp_path):
    folder = _fashion_folder(tmp_path / "fm")
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    with pytest.raises(ValueError, match="damaged"):
        D.load_fashion_mnist("test", path=folder)


def test_cifar_tree_and_tarball(tmp_path, cifar_tree):
    root = cifar_tree(tmp_path / "tree")
    ds = D.load_cifar10("test", path=root)
    assert ds.images.shape == (20, 3, 32, 32) and np.bincount(ds.labels).tolist() == [2] * 10
    tar_path = tmp_path / "cifar.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        tf.add(root / "train", arcname="train")
        tf.add(root / "test", arcname="test")
    dt = D.load_cifar10("test", path=tar_path)
    np.testing.assert_array_equal(dt.images, ds.images)


def test_cifar_missing_class_and_bad_image(tmp_path, rng, cifar_tree):
    root = cifar_tree(tmp_path / "tree", skip_class="frog")
    with pytest.raises(ValueError, match="no images for class\\(es\\) frog"):
        D.load_cifar10("test", path=root)
    root2 = cifar_tree(tmp_path / "tree2")
    (root2 / "test" / "cat" / "0000.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="0000.png"):
        D.load_cifar10("test", path=root2)


def test_half_downloaded_archive(tmp_path, cifar_tree):
    root = cifar_tree(tmp_path / "tree")
    tar_path = tmp_path / "cifar.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tf:
        tf.add(root / "test", arcname="test")
    tar_path.write_bytes(tar_path.read_bytes()[: tar_path.stat().st_size // 2])
    with pytest.raises(ValueError, match="damaged or incomplete|no images"):
        D.load_cifar10("test", path=tar_path)


def test_cifar_python_batches_and_safe_unpickler(tmp_path, rng):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    data = rng.integers(0, 256, (10, 3072), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": data, b"labels": list(range(10))}, fh)
    ds = D.load_cifar10("test", path=folder)
    np.testing.assert_array_equal(ds.images.reshape(10, -1), data)

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": Evil(), b"labels": []}, fh)
    (tmp_path / "data_root").exists() and __import__("shutil").rmtree(tmp_path / "data_root")
    with pytest.raises(ValueError, match="not allowed"):
        D.load_cifar10("test", path=folder)


def test_embedded_subset_is_balanced():
    ds = D.embedded_subset()
    assert len(ds) == 2000 and np.bincount(ds.labels).tolist() == [200] * 10
    assert ds.images.shape[1:] == (1, 28, 28)


def test_balanced_indices_seeded():
    labels = np.repeat(np.arange(3), 10)
    a = D.balanced_indices(labels, 4, seed=1)
    assert np.bincount(labels[a]).tolist() == [4, 4, 4]
    np.testing.assert_array_equal(a, D.balanced_indices(labels, 4, seed=1))
    with pytest.raises(ValueError, match="fewer than"):
        D.balanced_indices(labels, 11)


def test_balanced_subset_is_balanced_and_mixed(tmp_path, cifar_tree):
    root = cifar_tree(tmp_path / "tree", per_class=3)
    test = D.load_cifar10("test", path=root)  # files sorted by class
    sub = D.balanced_subset(test, 20, seed=1)
    assert np.bincount(sub.labels, minlength=10).tolist() == [2] * 10
    assert len(set(sub.labels[:5].tolist())) > 1  # the first few are not all one class
    again = D.balanced_subset(test, 20, seed=1)
    assert np.array_equal(again.images, sub.images)
    with pytest.raises(ValueError, match="one image per class"):
        D.balanced_subset(test, 5)
    assert D.balanced_subset(test, 30) is test and D.balanced_subset(test, 31) is test  # all of it: as it is


def test_embedded_subset_is_the_test_set_at_its_recorded_indices(fashion_full_dir):
    """The shipped subset holds Fashion-MNIST's own t10k images and labels at the indices it records."""
    from dither_lab.io import verified_asset

    full = D.load_fashion_mnist("test", path=fashion_full_dir)
    with np.load(verified_asset(D.SUBSET_ASSET), allow_pickle=False) as z:
        idx = z["indices"]
    sub = D.embedded_subset()
    assert len(idx) == len(sub) == 2000 and len(set(idx.tolist())) == 2000
    np.testing.assert_array_equal(np.asarray(sub.images), np.asarray(full.images)[idx])
    np.testing.assert_array_equal(np.asarray(sub.labels), np.asarray(full.labels)[idx])
    assert np.bincount(np.asarray(sub.labels), minlength=10).tolist() == [200] * 10
