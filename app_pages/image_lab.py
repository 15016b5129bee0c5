"""Image lab: Sign against ordered dithering (and error diffusion) on one image, side by side, with metrics."""

import json

import streamlit as st

from dither_lab.imaging.compare import metrics_table
from dither_lab.imaging.dither import DIFFUSION_KERNELS
from dither_lab.io import image_png_bytes
from dither_lab.ui import cached, plots, state, widgets

state.init()
st.title("Image lab")
st.markdown(
    "**Sign** binarizes every pixel against one threshold, so smooth tones collapse into flat areas. "
    "**Ordered dithering** tiles a small threshold kernel over the image, so neighbouring pixels use different "
    "thresholds and the local share of white pixels follows the tone. Pick an image and kernels below; pan and "
    "zoom one panel and the others follow."
)

c_mode, c_scale = st.columns(2)
mode = c_mode.radio("Colour", ["gray", "rgb"], horizontal=True, format_func={"gray": "gray", "rgb": "per-channel colour"}.get,
                    key="lab_mode", help="Colour dithers each of R, G and B on its own with the same kernel.")
scale = c_scale.radio("Display", ["auto", None, 1, 2, 4, 8], horizontal=True, key="lab_scale",
                      format_func=lambda z: {"auto": "auto", None: "fit to panel"}.get(z, f"{z}:1"),
                      help="Fit shows a large image smaller than its pixels, so a fine dither pattern can alias into "
                           "moiré on screen that is not in the output. 1:1 and larger show every pixel as a block, "
                           "starting at the centre; drag to pan, scroll to zoom out, double-click to come back. "
                           "Auto: 1:1 for images over 256 pixels, fit (drawn larger) for smaller ones.")
image, label = widgets.image_input("lab", mode=mode)
kernels = widgets.kernel_choice("Kernels to compare with Sign", "lab_kernels")
diffusion = st.multiselect("Error diffusion, as the sequential reference", list(DIFFUSION_KERNELS), key="lab_diffusion",
                           help="Error diffusion is sequential: good quality, but it cannot run inside a parallel network layer.")
specs = tuple(s for _, s in kernels) + tuple(f"diffusion:{m}" for m in diffusion)

try:
    with st.spinner("Dithering..."):
        outputs = cached.compare_image(image, specs)
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()

panels = [(f"input: {label}", cached.png_uri(image))] + [(o.label, cached.png_uri(o.binary)) for o in outputs]
st.plotly_chart(plots.side_by_side(panels, scale=scale), config={"scrollZoom": True, "displaylogo": False}, key="lab_panels")
if not kernels and not diffusion:
    st.info("Choose at least one kernel above to compare it with Sign.")

st.subheader("Metrics against the input")
rows = metrics_table(outputs)
widgets.metric_table(rows)
st.caption("Every output is compared with the input on one [0, 1] scale. PSNR, SSIM: pixel fidelity. "
           "CSF-PSNR: error filtered by the eye's contrast sensitivity (Mannos-Sakrison, 32 px/degree). "
           "TV ratio: total variation of the output over the input's. Tone error: mean difference after a "
           "Gaussian blur (sigma 2), i.e. how well local brightness is kept.")

tab_spec, tab_err, tab_dl = st.tabs(["Power spectrum", "Error maps", "Downloads"])
with tab_spec:
    st.plotly_chart(plots.spectra([(o.label, *o.spectrum) for o in outputs]), key="lab_spectrum")
    st.caption("Blue noise puts its error energy at high frequencies, where the eye is least sensitive; "
               "Bayer shows peaks at its period; Sign's error follows the image content.")
with tab_err:
    st.caption("Blurred output minus blurred input: red is too bright, blue too dark.")
    cols = st.columns(min(3, len(outputs)))
    for i, o in enumerate(outputs):
        cols[i % len(cols)].plotly_chart(plots.heatmap(o.error, title=o.label, zmid=0.0),
                                         key=f"lab_err_{i}")
with tab_dl:
    for i, o in enumerate(outputs):
        st.download_button(f"{o.label} (PNG)", image_png_bytes(o.binary), file_name=f"{o.spec.replace(':', '_')}.png",
                           mime="image/png", key=f"lab_dl_{i}")
    csv_lines = [",".join(rows[0].keys())] + [",".join(str(v) for v in r.values()) for r in rows]
    st.download_button("Metrics (CSV)", "\n".join(csv_lines) + "\n", file_name="metrics.csv", mime="text/csv")
    st.download_button("Metrics (JSON)", json.dumps({o.spec: o.metrics for o in outputs}, indent=2, default=str),
                       file_name="metrics.json", mime="application/json")
