"""Learn: one threshold, ordered dithering, Bayer versus blue noise, error diffusion, the dithered Sign in a BNN."""

import streamlit as st

from dither_lab.imaging.compare import compare
from dither_lab.imaging.samples import gray_ramp
from dither_lab.ui import cached, plots, state

state.init()
st.title("Learn: from one threshold to a dithered Sign")
st.markdown("Five short steps. Each has a live example and a link that opens another page preset to show it.")
# Examples are small and drawn larger than their pixels: drawn smaller, a dither pattern aliases into moiré.
ramp = gray_ramp(24, 128)

st.header("1. One threshold")
st.markdown("Binarizing with one threshold keeps only which side of it each pixel falls on:")
formula = st.empty()  # above the slider, and written with the threshold it sets
t = st.slider("Threshold t", 0.0, 1.0, 0.5, 0.05, key="learn_t")
formula.latex(r"b_{ij} = \begin{cases} 1 & x_{ij} \ge t \\ 0 & \text{otherwise} \end{cases}\qquad t = " + f"{t:.2f}")
st.plotly_chart(plots.side_by_side([("gray ramp", ramp), (f"one threshold at {t:.2f}", (ramp >= t).astype("uint8"))],
                                   height=160), key="learn_1")
st.markdown("A whole ramp of tones becomes one hard edge: every tone below t is black, every tone above is white.")
st.page_link("app_pages/image_lab.py", label="See it on a photo", icon=":material/arrow_forward:",
             query_params={"kernel": "sign", "sample": "camera"})

st.header("2. Ordered dithering")
st.markdown("Tile a small kernel of thresholds T over the image, so neighbours use different thresholds:")
st.latex(r"b_{ij} = \mathbb{1}\left[x_{ij} \ge T_{(i \bmod m),\,(j \bmod n)}\right], \qquad "
         r"T = \frac{r + 0.5}{mn} \text{ for ranks } r = 0, \dots, mn-1")
n = st.select_slider("Bayer size", [2, 4, 8], value=4, key="learn_n")
out = compare(ramp, [f"bayer:{n}"])
st.plotly_chart(plots.side_by_side([(o.label, o.binary) for o in out], height=160), key="learn_2")
article = "an" if n == 8 else "a"  # said "an eight-by-eight", "a four-by-four"
st.markdown(f"Now the share of white pixels follows the tone: {article} {n}x{n} kernel renders {n * n + 1} gray levels.")
st.page_link("app_pages/image_lab.py", label="Compare on a zone plate", icon=":material/arrow_forward:",
             query_params={"kernel": f"bayer:{n}", "sample": "zone-plate"})

st.header("3. Bayer versus blue noise")
st.markdown("Bayer's recursive kernel spreads thresholds evenly but regularly, which shows as a cross-hatch. "
            "Blue noise (void-and-cluster) spreads them irregularly, with no low-frequency energy (the camera "
            "photo at 128 x 128 pixels):")
bn = compare(cached.small("camera", 128), ["bayer:8", "blue-noise:64"], include_sign=False)
c1, c2 = st.columns(2)
c1.plotly_chart(plots.side_by_side([(o.label, o.binary) for o in bn], height=300), key="learn_3a")
c2.plotly_chart(plots.spectra([(o.label, *o.spectrum) for o in bn]), key="learn_3b")
st.caption("The low/high-frequency power ratio of a blue-noise mask is below 0.05 (white noise: about 1).")
st.page_link("app_pages/kernel_designer.py", label="Design a blue-noise kernel", icon=":material/arrow_forward:",
             query_params={"kernel": "blue-noise:16"})

st.header("4. Error diffusion")
st.markdown("Error diffusion quantizes pixels in order and pushes each error onto unvisited neighbours "
            "(Floyd-Steinberg weights 7, 3, 5, 1 over 16). It is the quality reference, but it is sequential, "
            "so it cannot run inside a parallel network layer; ordered dithering can.")
ed = compare(ramp, ["diffusion:floyd-steinberg"], include_sign=False)
st.plotly_chart(plots.side_by_side([(o.label, o.binary) for o in ed], height=220), key="learn_4")

st.header("5. The dithered Sign inside a BNN")
st.markdown("A binary layer normalizes its input with batch norm, then keeps the sign. DeSign shifts the threshold "
            "per pixel by a tiled kernel in batch-norm units, exactly like ordered dithering:")
st.latex(r"b_{c,i,j} = \operatorname{sign}\!\left(y_{c,i,j} - s_c\,T_{(i \bmod m),(j \bmod n)}\right),\qquad "
         r"y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c")
st.markdown("Try it on a map like the ones batch norm gives a binary layer: the camera photo at 128 x 128 "
            "pixels, standardized to mean 0 and variance 1.")
kernels5 = {"DeSign 2x2 (the paper's)": "preset:design-2x2-a", "DeSign 3x3": "preset:design-3x3-a",
            "Bayer 4x4 in batch-norm units": "bayer:4", "blue noise 16x16 in batch-norm units": "blue-noise:16"}
label5 = st.selectbox("Kernel", list(kernels5), key="learn_k5")
real5 = cached.standardized("camera")
act = cached.activation_compare(real5, kernels5[label5], 0)
shown5 = act["shown"]
st.plotly_chart(plots.side_by_side([("batch-norm output (-3 black, +3 white)", shown5["real"]), ("Sign", shown5["Sign"]),
                                    (label5, shown5["dithered"])], height=300), key="learn_5")
m5 = act["metrics"]
st.caption(f"+1 on {m5['Sign']['density']:.0%} of the pixels with Sign, {m5['dithered']['density']:.0%} with "
           f"{label5}: the paper's kernels hold positive thresholds only, so they turn fewer pixels on than Sign; "
           "Bayer and blue noise mapped to "
           "batch-norm units are centred on 0 and keep about the share of Sign. Against the real-valued map (PSNR, "
           f"SSIM on -3..3): Sign {m5['Sign']['psnr']:.2f} dB, {m5['Sign']['ssim']:.3f}; {label5} "
           f"{m5['dithered']['psnr']:.2f} dB, {m5['dithered']['ssim']:.3f}.")
st.markdown("At inference the batch norm and the kernel fold into one threshold per (channel, position), so it "
            "costs the same comparison as Sign; what it adds is memory, a table of m x n thresholds per channel "
            "instead of one (the Accuracy page counts it for a real network). The paper's 2x2 kernel is [[1,1],[0,3]] "
            "in levels, that is [[0.631, 0.631], [0.312, 0.967]] in batch-norm units.")
c1, c2 = st.columns(2)
with c1:
    st.page_link("app_pages/feature_maps.py", label="See it on real feature maps", icon=":material/arrow_forward:",
                 query_params={"kernel": "preset:design-2x2-a", "model": "fashion-mnist-sign"})
with c2:
    st.page_link("app_pages/accuracy.py", label="Measure what it does to accuracy", icon=":material/arrow_forward:",
                 query_params={"kernel": "preset:design-2x2-a", "model": "fashion-mnist-design"})
