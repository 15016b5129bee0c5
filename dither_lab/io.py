"""The only module that reads and writes files: kernels (JSON, .npy, MATLAB .mat) and images.

Kernel files:

* JSON, versioned schema ``{"format": "dither_lab.kernel", "version": 1, "name", "spec", "shape", "values",
  "units", "levels"}``; ``units`` is ``"bn"``, ``"unit"``, ``"raw"`` or ``"levels"``.
* ``.npy``: the values array, (m, n) or (F, m, n).
* MATLAB ``.mat`` (v5, as written by MATLAB or ``scipy.io.savemat``) with the variable ``kernel`` shaped
  (m, n) or (m, n, F) — the layout of the DeSign authors' released thresholds, so their files load as they are.
  Entries that are all DeSign levels {0, 1, 3, 5, 7, 9} are read as levels (``units="auto"``).

The format is decided by the file's content, not its extension. Writes are atomic (a temporary file in the same
folder, then a rename), and an existing file is never overwritten unless ``force=True``.
"""

from __future__ import annotations

import io as _io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from dither_lab._checks import check_choice, check_kernel_values
from dither_lab.kernels import LEVEL_TO_BN, Kernel, format_values, levels_to_thresholds

KERNEL_FORMAT = "dither_lab.kernel"
KERNEL_VERSION = 1
KERNEL_SUFFIXES = (".json", ".npy", ".mat")


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None], *, force: bool = False) -> Path:
    """Write a file atomically: ``write(fh)`` fills a temporary file that then replaces ``path``.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is False.
    """
    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"{path} already exists; pass force=True (CLI: --force) to overwrite it")
    if not path.parent.exists():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------------------------------------------- kernels


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x93NUMPY"):
        return "npy"
    if data[:116].startswith(b"MATLAB"):
        return "mat"
    if data.lstrip()[:1] in (b"{", b"["):
        return "json"
    return "unknown"


def kernel_to_json(kernel: Kernel) -> dict[str, Any]:
    """The versioned JSON document of a kernel."""
    return {
        "format": KERNEL_FORMAT,
        "version": KERNEL_VERSION,
        "name": kernel.name,
        "spec": kernel.spec,
        "shape": list(kernel.shape),
        "units": kernel.domain,
        "values": kernel.values.tolist(),
        "levels": None if kernel.levels is None else kernel.levels.tolist(),
    }


def _kernel_from_json(doc: Any, source: str, domain: str) -> Kernel:
    if isinstance(doc, list):  # a bare nested list of values is accepted too
        return Kernel(check_kernel_values(doc, name=f"kernel in {source}"), spec="custom", domain="raw", name=Path(source).stem)
    if not isinstance(doc, dict):
        raise ValueError(f"{source}: a kernel JSON file must hold an object or a nested list, got {type(doc).__name__}")
    if doc.get("format", KERNEL_FORMAT) != KERNEL_FORMAT:
        raise ValueError(f"{source}: format must be {KERNEL_FORMAT!r}, got {doc.get('format')!r}")
    version = doc.get("version", KERNEL_VERSION)
    if version != KERNEL_VERSION:
        raise ValueError(f"{source}: kernel schema version {version!r} is not supported (this dither_lab reads {KERNEL_VERSION})")
    units = doc.get("units", "raw")
    if units not in ("bn", "unit", "raw", "levels"):
        raise ValueError(f"{source}: units must be 'bn', 'unit', 'raw' or 'levels', got {units!r}")
    if "values" not in doc and units != "levels":
        raise ValueError(f"{source}: the kernel JSON has no 'values'")
    name = str(doc.get("name") or Path(source).stem)
    levels = doc.get("levels")
    if units == "levels":
        lv = check_kernel_values(doc.get("values", levels), name=f"levels in {source}")
        return Kernel(levels_to_thresholds(lv, domain=domain), spec="levels:" + format_values(lv), domain=domain, name=name, levels=lv)
    values = check_kernel_values(doc["values"], name=f"values in {source}")
    if "shape" in doc and list(values.shape) != list(doc["shape"]):
        raise ValueError(f"{source}: 'shape' says {doc['shape']} but 'values' has shape {list(values.shape)}")
    return Kernel(values, spec=str(doc.get("spec") or "custom"), domain=units, name=name, levels=levels)


def _kernel_from_mat(data: bytes, source: str, domain: str, units: str) -> Kernel:
    from scipy.io import loadmat

    try:
        mat = loadmat(_io.BytesIO(data))
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise ValueError(f"{source}: not a readable MATLAB v5 .mat file ({exc})") from None
    if "kernel" not in mat:
        names = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"{source}: the .mat file has no variable 'kernel' (it has: {', '.join(names) or 'none'})")
    arr = np.asarray(mat["kernel"])
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{source}: variable 'kernel' must be numeric, got {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 3:
        arr = np.moveaxis(arr, -1, 0)  # MATLAB (m, n, F) -> (F, m, n)
    arr = check_kernel_values(arr, name=f"kernel in {source}")
    is_levels = bool(np.all(np.isin(arr, list(LEVEL_TO_BN))))
    if units == "levels" or (units == "auto" and is_levels):
        return Kernel(levels_to_thresholds(arr, domain=domain), spec="levels:" + format_values(arr), domain=domain,
                      name=Path(source).stem, levels=arr)
    return Kernel(arr, spec="custom:" + format_values(arr), domain="raw", name=Path(source).stem)


def read_kernel_bytes(data: bytes, *, source: str = "kernel file", domain: str = "bn", units: str = "auto") -> Kernel:
    """Parse kernel file content (JSON, .npy or .mat, decided by content). Used for uploads and files alike.

    Args:
        data: the file's bytes.
        source: a name for messages.
        domain: domain of level-based kernels (``"bn"`` or ``"unit"``).
        units: for .mat and .npy: ``"auto"`` (all entries are DeSign levels -> levels, else raw), ``"levels"``
            or ``"raw"``.
    """
    check_choice("units", units, ("auto", "levels", "raw"))
    kind = _sniff(data)
    if kind == "json":
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{source}: malformed JSON ({exc})") from None
        return _kernel_from_json(doc, source, domain)
    if kind == "npy":
        try:
            arr = np.load(_io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise ValueError(f"{source}: not a readable .npy array ({exc})") from None
        arr = check_kernel_values(arr, name=f"kernel in {source}")
        if units == "levels":
            return Kernel(levels_to_thresholds(arr, domain=domain), spec="levels:" + format_values(arr),
                          domain=domain, name=Path(source).stem, levels=arr)
        return Kernel(arr, spec="custom:" + format_values(arr), domain="raw", name=Path(source).stem)
    if kind == "mat":
        return _kernel_from_mat(data, source, domain, units)
    raise ValueError(f"{source}: not a kernel file (expected JSON, .npy or MATLAB .mat content)")


def load_kernel(path: str | os.PathLike, *, domain: str = "bn", units: str = "auto") -> Kernel:
    """Load a kernel file (JSON, .npy or the authors' MATLAB .mat); see :func:`read_kernel_bytes`."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"kernel file {p} does not exist")
    return read_kernel_bytes(p.read_bytes(), source=str(p), domain=domain, units=units)


def kernel_bytes(kernel: Kernel, fmt: str) -> bytes:
    """Serialize a kernel as ``"json"``, ``"npy"`` or ``"mat"`` (MATLAB layout (m, n) or (m, n, F))."""
    check_choice("format", fmt, ("json", "npy", "mat"))
    buf = _io.BytesIO()
    if fmt == "json":
        buf.write((json.dumps(kernel_to_json(kernel), indent=2) + "\n").encode())
    elif fmt == "npy":
        np.save(buf, np.asarray(kernel.values), allow_pickle=False)
    else:
        from scipy.io import savemat

        v = kernel.levels if kernel.levels is not None else kernel.values
        v = np.asarray(v, dtype=np.float64)
        savemat(buf, {"kernel": np.moveaxis(v, 0, -1) if v.ndim == 3 else v})
    return buf.getvalue()


LIBRARY_FORMAT = "dither_lab.library"
LIBRARY_MAX_KERNELS = 500


def library_bytes(library: dict[str, str]) -> bytes:
    """A kernel library (name -> spec, in order) as a versioned JSON file, to keep or share what a session made."""
    doc = {"format": LIBRARY_FORMAT, "version": 1, "kernels": [{"name": n, "spec": s} for n, s in library.items()]}
    return (json.dumps(doc, indent=2) + "\n").encode()


def read_library_bytes(data: bytes, *, source: str = "library file") -> dict[str, str]:
    """Parse a file written by :func:`library_bytes`: name -> spec, every spec checked (``file:`` specs refused).

    Raises:
        ValueError: not a library file, or a kernel in it that does not parse (the message names it).
    """
    from dither_lab.kernels import make_kernel

    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{source}: not a dither_lab kernel library (expected the JSON file the app downloads)") from None
    if not isinstance(doc, dict) or doc.get("format") != LIBRARY_FORMAT:
        hint = " (that is one kernel: load it in the kernel designer)" if isinstance(doc, dict) and doc.get("format") == KERNEL_FORMAT else ""
        raise ValueError(f"{source}: not a dither_lab kernel library{hint}")
    if doc.get("version") != 1:
        raise ValueError(f"{source}: library version {doc.get('version')!r} is not supported (this dither_lab reads 1)")
    kernels = doc.get("kernels")
    if not isinstance(kernels, list) or not 1 <= len(kernels) <= LIBRARY_MAX_KERNELS:
        raise ValueError(f"{source}: 'kernels' must be a list of 1 to {LIBRARY_MAX_KERNELS} entries")
    out: dict[str, str] = {}
    for i, entry in enumerate(kernels):
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("spec"), str)
                and entry["name"].strip() and len(entry["name"]) <= 100):
            raise ValueError(f"{source}: kernel {i + 1} must have a 'name' (1 to 100 characters) and a 'spec'")
        try:
            make_kernel(entry["spec"], allow_files=False)
        except ValueError as exc:
            raise ValueError(f"{source}: kernel {entry['name']!r}: {exc}") from None
        out[entry["name"].strip()] = entry["spec"]
    return out


def save_kernel(kernel: Kernel, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Save a kernel atomically; the format follows the suffix (.json, .npy, .mat).

    A .mat file holds the levels when the kernel has them (as the authors' files do), else the values.
    """
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a dither_lab Kernel, got {type(kernel).__name__}")
    suffix = Path(path).suffix.lower()
    if suffix not in KERNEL_SUFFIXES:
        raise ValueError(f"kernel file must end in {', '.join(KERNEL_SUFFIXES)}, got {str(path)!r}")
    data = kernel_bytes(kernel, suffix[1:])
    return atomic_write(path, lambda fh: fh.write(data), force=force)


# ----------------------------------------------------------------------------------------------------- images


def to_float_image(array: np.ndarray) -> np.ndarray:
    """A decoded image (H, W) or (H, W, C), uint8/uint16/float, to the core layout: float32 in [0, 1],
    (H, W) or (C, H, W)."""
    a = np.asarray(array)
    if a.dtype == np.uint8:
        f = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / 65535.0
    elif a.dtype.kind == "f":
        f = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        if f.size and (f.min() < 0 or f.max() > 1):
            lo, hi = float(f.min()), float(f.max())
            f = (f - lo) / (hi - lo) if hi > lo else np.zeros_like(f)
    elif a.dtype == bool:
        f = a.astype(np.float32)
    else:
        raise ValueError(f"image dtype {a.dtype} is not supported (expected uint8, uint16, float or bool)")
    return np.moveaxis(f, -1, 0).copy() if f.ndim == 3 else f


#: Uploads larger than this are refused before decoding (decompression bombs); larger photos are downscaled.
MAX_IMAGE_PIXELS = 80_000_000


def decode_image(data: bytes, *, mode: str = "gray", max_side: int | None = None,
                 source: str = "image") -> tuple[np.ndarray, dict[str, Any]]:
    """Decode image bytes (PNG, JPEG, WebP, BMP, TIFF, GIF; by content, not name) to float32 in [0, 1].

    EXIF rotation is applied (shown upright), animations give their first frame, transparency is composited on
    white, 16-bit and float data keep their precision. Images with a longer side than ``max_side`` are
    downscaled (area averaging).

    Returns:
        ``(image, info)``: (H, W) for ``mode="gray"`` or (3, H, W) for ``"rgb"``; info has ``format``,
        ``original_size`` (W, H), ``frames``, ``downscaled`` and ``notes`` (sentences for the user).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_choice("mode", mode, ("gray", "rgb"))
    if not data:
        raise ValueError(f"{source} is empty (0 bytes)")
    notes: list[str] = []
    try:
        with Image.open(_io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > MAX_IMAGE_PIXELS:
                raise ValueError(f"{source} declares {w}x{h} pixels, more than the {MAX_IMAGE_PIXELS // 1_000_000} "
                                 "megapixels this app accepts")
            fmt = im.format or "unknown"
            frames = int(getattr(im, "n_frames", 1) or 1)
            if frames > 1:
                im.seek(0)
                notes.append(f"{source} is animated ({frames} frames): the first frame is used.")
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
                arr = np.asarray(im, dtype=np.float32)
                if im.mode.startswith("I;16"):
                    arr = arr / 65535.0
                else:
                    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
                    arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
                    notes.append(f"{source} holds {im.mode} values; they were scaled from [{lo:g}, {hi:g}] to [0, 1].")
                gray = np.nan_to_num(arr, nan=0.0)
                img = gray if mode == "gray" else np.stack([gray] * 3)
            else:
                if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                    rgba = im.convert("RGBA")
                    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    im = Image.alpha_composite(bg, rgba)
                    notes.append(f"{source} has transparency: it is shown on white.")
                img = to_float_image(np.asarray(im.convert("L" if mode == "gray" else "RGB")))
    except UnidentifiedImageError:  # Pillow's message names the Python object it read from, not the file
        raise ValueError(f"{source} is not a readable image (its content is not PNG, JPEG, WebP, BMP, TIFF or GIF)") from None
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{source} is not a readable image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    downscaled = False
    if max_side is not None and max(img.shape[-2:]) > max_side:
        img = _downscale(img, max_side)
        downscaled = True
        notes.append(f"{source} is {w}x{h}; it was downscaled to {img.shape[-1]}x{img.shape[-2]} for computing.")
    return img, {"format": fmt, "original_size": (w, h), "frames": frames, "downscaled": downscaled, "notes": notes}


def _downscale(img: np.ndarray, max_side: int) -> np.ndarray:
    from PIL import Image

    h, w = img.shape[-2:]
    f = max_side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    planes = img[None] if img.ndim == 2 else img
    out = np.stack([np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
                    for p in planes])
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    return out[0] if img.ndim == 2 else out


def read_image_bytes(data: bytes, *, mode: str = "gray", source: str = "image") -> np.ndarray:
    """Decode image bytes to float32 in [0, 1]; see :func:`decode_image`."""
    return decode_image(data, mode=mode, source=source)[0]


def load_image(path: str | os.PathLike, *, mode: str = "gray") -> np.ndarray:
    """Load an image file as float32 in [0, 1]; see :func:`read_image_bytes`."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"image file {p} does not exist")
    return read_image_bytes(p.read_bytes(), mode=mode, source=str(p))


def image_png_bytes(image: np.ndarray, *, compress_level: int = 6) -> bytes:
    """Encode a core-layout image ((H, W) or (C, H, W); float in [0, 1] or {0, 1} uint8) as PNG bytes."""
    from PIL import Image

    a = np.asarray(image)
    if a.dtype == np.uint8 and a.size and a.max() <= 1:
        a8 = a * 255
    else:
        a8 = (np.clip(a.astype(np.float32), 0, 1) * 255 + 0.5).astype(np.uint8)
    if a8.ndim == 3:
        a8 = np.moveaxis(a8, 0, -1)
        if a8.shape[-1] == 1:
            a8 = a8[..., 0]
    buf = _io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a8)).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def save_image(image: np.ndarray, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Save a core-layout image as PNG, atomically."""
    data = image_png_bytes(image)
    return atomic_write(path, lambda fh: fh.write(data), force=force)


# ----------------------------------------------------------------------------------------------------- assets

#: Shipped assets live beside the package, in the repository's assets/ folder.
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
MANIFEST_NAME = "MANIFEST.json"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(assets_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """The assets manifest: ``{"files": {relative path: {"sha256", "bytes", "made_by", ...}}}``."""
    root = Path(assets_dir) if assets_dir is not None else ASSETS_DIR
    p = root / MANIFEST_NAME
    if not p.is_file():
        return {"files": {}}
    try:
        doc = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{p} is not valid JSON ({exc}); restore it with `make assets` or from git") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise ValueError(f"{p} has no 'files' table; restore it with `make assets` or from git")
    return doc


def record_asset(relpath: str, *, made_by: str, assets_dir: str | os.PathLike | None = None, **info: Any) -> None:
    """Add or update one file's entry (sha256, size, how it was made) in the manifest, atomically."""
    root = Path(assets_dir) if assets_dir is not None else ASSETS_DIR
    doc = read_manifest(root)
    path = root / relpath
    doc["files"][relpath] = {"sha256": sha256_file(path), "bytes": path.stat().st_size, "made_by": made_by, **info}
    doc["files"] = dict(sorted(doc["files"].items()))
    text = (json.dumps(doc, indent=2) + "\n").encode()
    atomic_write(root / MANIFEST_NAME, lambda fh: fh.write(text), force=True)


def verified_asset(relpath: str, *, assets_dir: str | os.PathLike | None = None) -> Path:
    """Path of a shipped asset after checking its sha256 against the manifest.

    Raises:
        ValueError: the asset is missing, unlisted or damaged (the message says how to restore it).
    """
    root = Path(assets_dir) if assets_dir is not None else ASSETS_DIR
    entry = read_manifest(root)["files"].get(relpath)
    path = root / relpath
    if entry is None:
        raise ValueError(f"asset {relpath} is not listed in {root / MANIFEST_NAME}")
    if not path.is_file():
        raise ValueError(f"asset {path} is missing; restore it with `git checkout -- assets` or `{entry['made_by']}`")
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"asset {path} is damaged (sha256 differs from the manifest); restore it with "
                         f"`git checkout -- assets` or `{entry['made_by']}`")
    return path


def load_asset_array(relpath: str, *, assets_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Load a verified .npy asset (no pickle)."""
    return np.load(verified_asset(relpath, assets_dir=assets_dir), allow_pickle=False)


# -------------------------------------------------------------------------------------------- tensors, weights


def save_tensors(tensors: dict[str, Any], path: str | os.PathLike, *, metadata: dict[str, Any] | None = None,
                 force: bool = False) -> Path:
    """Write tensors as safetensors, with ``metadata`` stored as JSON in the header; atomic."""
    from safetensors.torch import save

    data = save(tensors, metadata={"dither_lab": json.dumps(metadata or {})})
    return atomic_write(path, lambda fh: fh.write(data), force=force)


def load_tensors(path: str | os.PathLike, *, sha256: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a safetensors file (no pickle) and its JSON metadata; check its sha256 when given.

    Raises:
        ValueError: missing, damaged (sha256 mismatch) or not a safetensors file; the message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"weights file {p} does not exist")
    data = p.read_bytes()
    if sha256 is not None:
        import hashlib

        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"weights file {p} is damaged: its sha256 differs from the manifest")
    try:
        tensors = load(data)
        header_len = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + header_len])
        meta = json.loads(header.get("__metadata__", {}).get("dither_lab", "{}"))
    except (SafetensorError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"weights file {p} is not a readable safetensors file ({exc})") from None
    return tensors, meta


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write a training checkpoint atomically (torch.save; read back with ``weights_only=True``)."""
    import torch

    return atomic_write(path, lambda fh: torch.save(state, fh), force=True)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True`` (no arbitrary pickle)."""
    import pickle

    import torch

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"checkpoint {p} does not exist")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, ValueError, OSError) as exc:
        raise ValueError(f"checkpoint {p} is damaged or not a dither_lab checkpoint ({str(exc).splitlines()[0]})") from None


# --------------------------------------------------------------------------------------------------- download


def download(url: str, dest: str | os.PathLike, *, md5: str | None = None, progress: bool = True,
             chunk: int = 1 << 16, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, resuming a partial ``dest + '.part'``, checking ``md5``.

    The file appears at ``dest`` only when complete and verified; an existing ``dest`` is never overwritten
    (a verified one is returned as it is).

    Raises:
        ValueError: the download failed or the MD5 differs (the partial file is removed then).
    """
    import hashlib
    import urllib.error
    import urllib.request

    from tqdm import tqdm

    dest = Path(dest)

    def digest(p: Path) -> str:
        h = hashlib.md5()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    if dest.exists():
        if md5 is None or digest(dest) == md5:
            return dest
        raise ValueError(f"{dest} exists but its MD5 differs from {md5}; move it away to download again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            if have and resp.status != 206:
                have = 0  # the server ignored the range: start again
            total = resp.headers.get("Content-Length")
            total = int(total) + have if total is not None else None
            with open(part, "ab" if have else "wb") as fh, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                                                desc=dest.name, disable=not progress) as bar:
                while block := resp.read(chunk):
                    fh.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the partial file is already complete
            pass
        else:
            raise ValueError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise ValueError(f"download of {url} failed ({exc}); run the command again to resume") from None
    if md5 is not None and digest(part) != md5:
        part.unlink(missing_ok=True)
        raise ValueError(f"download of {url} is corrupt (MD5 differs from {md5}); the partial file was removed")
    os.replace(part, dest)
    return dest
