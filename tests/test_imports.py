import subprocess
import sys


def test_core_does_not_import_streamlit():
    code = "import sys, dither_lab, dither_lab.cli, dither_lab.bench, dither_lab.nn.cost; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_public_api():
    import dither_lab

    for name in ["dithered_sign", "DitheredSign", "make_kernel", "load_kernel", "save_kernel", "psnr", "ssim",
                 "total_variation", "detail_metrics", "ordered_dither", "error_diffusion"]:
        assert callable(getattr(dither_lab, name)), name
