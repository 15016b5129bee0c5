"""Image lab: Sign against ordered dithering (and error diffusion) on one image, side by side, with metrics."""

import json

import streamlit as st

from dither_lab.imaging.compare import error_scale, metrics_csv, metrics_json, metrics_table, takeaway
from dither_lab.imaging.dither import DIFFUSION_KERNELS
from dither_lab.imaging.metrics import KEPT, OTHERS
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
                    **widgets.kept("lab_mode", "gray"), help="Colour dithers each of R, G and B on its own with the same kernel.")
scale = c_scale.radio("Display", ["auto", None, 1, 2, 4, 8], horizontal=True, **widgets.kept("lab_scale", "auto"),
                      format_func=lambda z: {"auto": "auto", None: "fit to panel"}.get(z, f"{z}:1"),
                      help="Fit shows a large image smaller than its pixels, so a fine dither pattern can alias into "
                           "moiré on screen that is not in the output. 1:1 and larger show every pixel as a block, "
                           "starting at the centre; drag to pan, scroll to zoom out, double-click to come back. "
                           "Auto: 1:1 for images over 256 pixels, fit (drawn larger) for smaller ones.")
image, label = widgets.image_input("lab", mode=mode)
kernels = widgets.kernel_choice("Kernels to compare with Sign", "lab_kernels")
with st.expander("Make a kernel: any generator, size, seed and strength"):
    widgets.kernel_maker("lab_make", "lab_kernels")
diffusion = st.multiselect("Error diffusion, as the sequential reference", list(DIFFUSION_KERNELS),
                           **widgets.kept("lab_diffusion", []), format_func=str.title,  # as the outputs name them
                           help="Error diffusion is sequential: good quality, but it cannot run inside a parallel network layer.")
ppd, viewing = widgets.viewing_choice("lab_view")

specs, names = widgets.named_specs(kernels)
specs += tuple(f"diffusion:{m}" for m in diffusion)
try:
    with st.spinner("Dithering..."):
        outputs = cached.compare_image(image, specs, pixels_per_degree=ppd, names=names)
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()

if not kernels and not diffusion:
    st.info("Choose at least one kernel above to compare it with Sign.")
else:
    st.info(takeaway(outputs), icon=":material/lightbulb:")
panels = [(f"input: {label}", cached.png_uri(image))] + [(o.label, cached.png_uri(o.binary)) for o in outputs]
st.plotly_chart(plots.side_by_side(panels, scale=scale), config={"scrollZoom": True, "displaylogo": False}, key="lab_panels")

st.subheader("Metrics against the input")
mean = outputs[0].metrics["reference_mean"]
st.caption(f"The eye-weighted PSNR models the image {viewing}. The input's mean tone is {mean:.3f}: the share of "
           "white pixels that keeps its overall brightness. Arrows say which way is better; the best value of each "
           "column is green.")
rows = metrics_table(outputs)
st.caption("**Tone and detail**, what dithering keeps: tone error compares local brightness (both blurred), "
           "eye-weighted PSNR the error as the eye sees it, local correlation the detail whatever the overall shift; "
           "the share of white pixels is best near the input's mean.")
widgets.output_metrics(rows, KEPT, mean=mean, viewing=viewing)
st.caption("**Pixel by pixel** against the gray input, PSNR and SSIM count any binary texture as error, so Sign's "
           "flat areas score well there although they lose the tone: judge detail by the table above. TV ratio "
           "near 1: as much variation as the input; residual correlation near 0: an error unrelated to the image.")
widgets.output_metrics(rows, OTHERS, mean=mean, viewing=viewing, spec=False)

tab_spec, tab_err, tab_dl = st.tabs(["Power spectrum", "Error maps", "Downloads"])
with tab_spec:
    st.plotly_chart(plots.spectra([(o.label, *o.spectrum) for o in outputs], title="Power spectrum of the error"),
                    key="lab_spectrum")
    st.caption("The spectrum of each output's error (output minus input): what binarizing added to the image. Low "
               "frequencies (left) are what the eye sees most; lower power there is better. Dithering moves the "
               "error to high frequencies (right), blue noise spread smoothly, Bayer in peaks at its period; Sign's "
               "error follows the image's shapes, so much of it sits at low frequencies.")
with tab_err:
    top = error_scale(outputs)
    st.caption(f"Blurred output minus blurred input (Gaussian, sigma 1.5 pixels), every map on one colour scale from "
               f"-{top:g} (blue: too dark) to +{top:g} (red: too bright); white is right.")
    cols = st.columns(min(3, len(outputs)))
    for i, o in enumerate(outputs):
        cols[i % len(cols)].plotly_chart(plots.heatmap(o.error, title=o.label, zmin=-top, zmax=top),
                                         key=f"lab_err_{i}")
with tab_dl:
    for i, o in enumerate(outputs):
        st.download_button(f"{o.label} (PNG)", image_png_bytes(o.binary), file_name=widgets.download_name(o.label, "png"),
                           mime="image/png", key=f"lab_dl_{i}")
    st.download_button("Metrics (CSV)", metrics_csv(outputs), file_name="metrics.csv", mime="text/csv")
    st.download_button("Metrics (JSON)", json.dumps(metrics_json(outputs), indent=2, default=str),
                       file_name="metrics.json", mime="application/json")
