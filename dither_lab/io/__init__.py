"""Every file dither_lab reads or writes: atomic writes (:mod:`.files`), kernel files (:mod:`.kernel_files`),
kernel libraries (:mod:`.library`), images (:mod:`.images`), tensors, weights and checkpoints (:mod:`.weights`),
shipped assets (:mod:`.assets`) and downloads (:mod:`.download`)."""

from dither_lab.io.assets import (
    ASSETS_DIR,
    MANIFEST_NAME,
    load_asset_array,
    read_manifest,
    record_asset,
    verified_asset,
)
from dither_lab.io.download import download
from dither_lab.io.files import atomic_write, sha256_file
from dither_lab.io.images import (
    MAX_IMAGE_PIXELS,
    decode_image,
    image_png_bytes,
    load_image,
    read_image_bytes,
    save_image,
    to_float_image,
)
from dither_lab.io.kernel_files import (
    KERNEL_FORMAT,
    KERNEL_SUFFIXES,
    KERNEL_VERSION,
    kernel_bytes,
    kernel_to_json,
    load_kernel,
    read_kernel_bytes,
    save_kernel,
)
from dither_lab.io.library import LIBRARY_FORMAT, LIBRARY_MAX_KERNELS, library_bytes, read_library_bytes
from dither_lab.io.weights import load_checkpoint, load_tensors, save_checkpoint, save_tensors

__all__ = [
    "ASSETS_DIR", "KERNEL_FORMAT", "KERNEL_SUFFIXES", "KERNEL_VERSION", "LIBRARY_FORMAT", "LIBRARY_MAX_KERNELS",
    "MANIFEST_NAME", "MAX_IMAGE_PIXELS", "atomic_write", "decode_image", "download", "image_png_bytes",
    "kernel_bytes", "kernel_to_json", "library_bytes", "load_asset_array", "load_checkpoint", "load_image", "load_kernel",
    "load_tensors", "read_image_bytes", "read_kernel_bytes", "read_library_bytes", "read_manifest", "record_asset",
    "save_checkpoint", "save_image", "save_kernel", "save_tensors", "sha256_file", "to_float_image",
    "verified_asset",
]
