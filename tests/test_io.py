import json

import numpy as np
import pytest
from scipy.io import savemat

from dither_lab import load_image, load_kernel, make_kernel, save_image, save_kernel
from dither_lab.io import kernel_bytes, read_image_bytes, read_kernel_bytes


@pytest.mark.parametrize("suffix", [".json", ".npy", ".mat"])
@pytest.mark.parametrize("spec", ["bayer:4", "preset:design-2x2-a", "preset:design3d-2x2x4", "custom:0.1,-2;3,4.5"])
def test_kernel_round_trip(tmp_path, suffix, spec):
    k = make_kernel(spec)
    path = save_kernel(k, tmp_path / f"k{suffix}")
    back = load_kernel(path)
    np.testing.assert_allclose(back.values, k.values)
    assert back.shape == k.shape


def test_json_schema_fields(tmp_path):
    k = make_kernel("preset:design-2x2-a")
    doc = json.loads(save_kernel(k, tmp_path / "k.json").read_text())
    assert doc["format"] == "dither_lab.kernel" and doc["version"] == 1
    assert doc["shape"] == [2, 2] and doc["units"] == "bn" and doc["levels"] == [[1, 1], [0, 3]]
    assert doc["spec"] == "preset:design-2x2-a"


def test_authors_mat_layout_loads_as_levels(tmp_path):
    # The authors' files: MATLAB variable `kernel`, (m, n) or (m, n, F), entries in levels.
    lv3 = np.stack([[[1, 1], [0, 3]], [[3, 3], [1, 5]], [[5, 5], [3, 7]], [[7, 7], [5, 9]]], axis=-1)
    savemat(tmp_path / "design3d.mat", {"kernel": lv3.astype(float)})
    k = load_kernel(tmp_path / "design3d.mat")
    np.testing.assert_allclose(k.values, make_kernel("preset:design3d-2x2x4").values)
    savemat(tmp_path / "k2.mat", {"kernel": np.array([[1.0, 1.0], [0.0, 3.0]])})
    np.testing.assert_allclose(load_kernel(tmp_path / "k2.mat").values, make_kernel("preset:design-2x2-a").values)
    savemat(tmp_path / "raw.mat", {"kernel": np.array([[0.25, -0.5]])})
    assert load_kernel(tmp_path / "raw.mat").values.tolist() == [[0.25, -0.5]]


def test_format_by_content_not_extension(tmp_path):
    p = tmp_path / "looks_like.json"
    save_kernel(make_kernel("bayer:2"), tmp_path / "k.npy")
    p.write_bytes((tmp_path / "k.npy").read_bytes())
    np.testing.assert_allclose(load_kernel(p).values, make_kernel("bayer:2").values)


@pytest.mark.parametrize(
    "data, match",
    [
        (b"{not json", "malformed JSON"),
        (b'{"values": [[1, 2], [3]]}', "rectangular"),
        (b'{"values": [[1, NaN]]}', "finite"),
        (b'{"format": "other"}', "format must be"),
        (b'{"version": 9, "values": [[1]]}', "version 9"),
        (b'{"values": [[1, 2]], "shape": [2, 1]}', "'shape' says"),
        (b"hello", "not a kernel file"),
        (b"", "not a kernel file"),
    ],
)
def test_bad_kernel_files(data, match):
    with pytest.raises(ValueError, match=match):
        read_kernel_bytes(data)


def test_mat_without_kernel(tmp_path):
    savemat(tmp_path / "x.mat", {"weights": np.ones((2, 2))})
    with pytest.raises(ValueError, match="no variable 'kernel' \\(it has: weights\\)"):
        load_kernel(tmp_path / "x.mat")


def test_no_overwrite_without_force_and_atomic(tmp_path):
    p = save_kernel(make_kernel("bayer:2"), tmp_path / "k.json")
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="--force"):
        save_kernel(make_kernel("bayer:4"), p)
    assert p.read_bytes() == before
    save_kernel(make_kernel("bayer:4"), p, force=True)
    assert load_kernel(p).shape == (4, 4)
    assert [f.name for f in tmp_path.iterdir()] == ["k.json"]  # no temporary files left


def test_save_kernel_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="must end in"):
        save_kernel(make_kernel("bayer:2"), tmp_path / "k.txt")


def test_image_round_trip(tmp_path, rng):
    img = (rng.random((3, 9, 11)) > 0.5).astype(np.uint8)
    p = save_image(img, tmp_path / "o.png")
    back = load_image(p, mode="rgb")
    assert back.shape == (3, 9, 11) and back.dtype == np.float32
    np.testing.assert_array_equal(back, img.astype(np.float32))
    gray = load_image(p)
    assert gray.shape == (9, 11)


def test_bad_image_bytes():
    with pytest.raises(ValueError, match="empty"):
        read_image_bytes(b"")
    with pytest.raises(ValueError, match="not a readable image"):
        read_image_bytes(b"<html>not a png</html>")


def test_library_file_round_trip_and_bad_files():
    from dither_lab.io import library_bytes, read_library_bytes

    lib = {"Sign": "sign", "mine": "custom:0.1,-0.2;0.3,0", "3-D": "preset:design3d-2x2x4"}
    assert list(read_library_bytes(library_bytes(lib)).items()) == list(lib.items())  # names, specs and order
    one_kernel = kernel_bytes(make_kernel("bayer:2"), "json")
    for data, match in [(b"\x89PNG", "not a dither_lab kernel library"), (b"[1, 2]", "not a dither_lab kernel library"),
                        (one_kernel, "that is one kernel"),
                        (b'{"format": "dither_lab.library", "version": 2, "kernels": []}', "version 2"),
                        (b'{"format": "dither_lab.library", "version": 1, "kernels": []}', "1 to 500"),
                        (b'{"format": "dither_lab.library", "version": 1, "kernels": [{"name": "", "spec": "sign"}]}',
                         "kernel 1 must have a 'name'"),
                        (b'{"format": "dither_lab.library", "version": 1, "kernels": [{"name": "x", "spec": "bayer:3"}]}',
                         "kernel 'x': bayer size"),
                        (b'{"format": "dither_lab.library", "version": 1, "kernels": [{"name": "x", "spec": "file:k.json"}]}',
                         "kernel 'x': file:")]:
        with pytest.raises(ValueError, match=match):
            read_library_bytes(data, source="lib.json")
