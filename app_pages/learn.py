"""Learn: one threshold, ordered dithering, Bayer versus blue noise, error diffusion, the dithered Sign in a BNN."""

import numpy as np
import streamlit as st

from dither_lab.imaging.compare import METRIC_LABELS, compare
from dither_lab.imaging.metrics import low_high_ratio, radial_power_spectrum
from dither_lab.imaging.samples import gray_ramp
from dither_lab.kernels import make_kernel, tile
from dither_lab.nn.feature_maps import comparison_rows, is_centred, shifted_label, summary_takeaway, takeaway
from dither_lab.study import finding, swap_lesson
from dither_lab.ui import cached, plots, state, widgets

state.init()
st.title("Learn: from one threshold to a dithered Sign")
st.markdown("Six short steps. Each has a live example, and most a link that opens another page preset to show it.")
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
st.latex(r"b_{ij} = \mathbb{1}\left[x_{ij} \ge T_{(i \bmod m),\,(j \bmod n)}\right]")  # two lines: one is cut at 1024 px
st.latex(r"T = \frac{r + 0.5}{mn} \text{ for ranks } r = 0, \dots, mn-1")
n = st.select_slider("Bayer size", [2, 4, 8], value=4, key="learn_n")
out = compare(ramp, [f"bayer:{n}"])
st.plotly_chart(plots.side_by_side([(o.label, o.binary) for o in out], height=160), key="learn_2")
article = "an" if n == 8 else "a"  # said "an eight-by-eight", "a four-by-four"
st.markdown(f"Now the share of white pixels follows the tone: {article} {n}x{n} kernel renders {n * n + 1} gray levels.")
st.page_link("app_pages/image_lab.py", label="Compare with Sign on a photo", icon=":material/arrow_forward:",
             query_params={"kernel": f"bayer:{n}", "sample": "camera"})

st.header("3. Bayer versus blue noise")
st.markdown("Bayer's recursive kernel spreads thresholds evenly but regularly, which shows as a cross-hatch. "
            "Blue noise (void-and-cluster) spreads them irregularly: its power too is at high frequencies, but "
            "spread smoothly rather than in a few peaks (the camera photo at 128 x 128 pixels):")
bn = compare(cached.small("camera", 128), ["bayer:8", "blue-noise:64"], include_sign=False)
c1, c2 = st.columns(2)
c1.plotly_chart(plots.side_by_side([(o.label, o.binary) for o in bn], height=300), key="learn_3a")
# the masks in image units: the thresholds that dithered the photo beside them
masks = {label: tile(make_kernel(spec, domain="unit").values, 128, 128) for label, spec in
         [("Bayer 8x8 mask", "bayer:8"), ("blue-noise 64x64 mask", "blue-noise:64")]}
c2.plotly_chart(plots.spectra([(label, *radial_power_spectrum(m)) for label, m in masks.items()],
                              title="Spectra of the two threshold masks"), key="learn_3b")
ratios = {label: low_high_ratio(m) for label, m in masks.items()}
bluer = min(ratios, key=ratios.get).split(" mask")[0]
st.caption("Neither mask has much power at low frequencies: low/high-frequency power ratio "
           f"{ratios['Bayer 8x8 mask']:.4f} for Bayer, {ratios['blue-noise 64x64 mask']:.4f} for blue noise "
           f"(white noise: about 1; lower is bluer, here {bluer}). The bigger difference is how the rest is spread: "
           "Bayer's power sits in a few peaks at fractions of its period, which the eye sees as a regular "
           "cross-hatch; blue noise spreads it smoothly over the high frequencies, with no pattern to see.")
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
st.latex(r"b_{c,i,j} = \operatorname{sign}\!\left(y_{c,i,j} - s_c\,T_{(i \bmod m),(j \bmod n)}\right)")
st.latex(r"y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c")
st.markdown("Try it on a map like the ones batch norm gives a binary layer: the camera photo at 128 x 128 "
            "pixels, standardized to mean 0 and variance 1. Beside Sign and the kernel is **Sign at the kernel's "
            "mean threshold**: the same shift of the share of +1s with one threshold, so what differs between it and "
            "the kernel is the kernel's pattern alone.")
lib = {n: s for n, s in state.library().items() if s != "sign"}
label5 = st.selectbox("Kernel", list(lib), key="learn_k5",
                      index=list(lib).index("DeSign 2x2 (paper)") if "DeSign 2x2 (paper)" in lib else 0,
                      help="The kernels of this session's library, in batch-norm units.")
real5 = cached.standardized("camera")
try:
    act = cached.activation_compare(real5, lib[label5], 0)
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()
shown5 = act["shown"]
shifted5 = shifted_label(act["shift"])
st.plotly_chart(plots.align_top(plots.side_by_side([("batch-norm map (±3)", shown5["real"]), ("Sign", shown5["Sign"]),
                                                   (label5, shown5["dithered"])]
                                                  + ([] if is_centred(act) else [(shifted5, shown5["shifted"])]),
                                                  height=240)), key="learn_5")
rows5 = [{k: r[k] for k in ("output", METRIC_LABELS["local_correlation"], METRIC_LABELS["psnr"], METRIC_LABELS["ssim"])}
         for r in comparison_rows(act, label5)]
widgets.metric_table(rows5, better=widgets.metric_directions(rows5), pinned=("output",))
st.info(takeaway(act, label5), icon=":material/lightbulb:")
st.markdown("**Why dithering can help a network where a pixel metric prefers Sign.** PSNR and SSIM compare the binary "
            "map with the real one pixel by pixel, so every binary texture counts as error and Sign, with its flat "
            "areas, often scores best. A network needs something else. Where its activations sit against the "
            "thresholds it learns itself (batch norm shifts each channel), so a kernel's mean shift is the network's "
            "to absorb. What a kernel adds is local detail: more +1s where the map is high, fewer where it is low, "
            "inside areas Sign makes flat. *Local correlation* measures that whatever the shift, and measured "
            "against Sign at the same shift it shows what the kernel's pattern keeps.")
st.markdown("At inference the batch norm and the kernel fold into one threshold per (channel, position), so it "
            "costs the same comparison as Sign; what it adds is memory, a table of m x n thresholds per channel "
            "instead of one (the Accuracy page counts it for a real network). The paper's 2x2 kernel is [[1,1],[0,3]] "
            "in levels, that is [[0.631, 0.631], [0.312, 0.967]] in batch-norm units.")
try:
    with st.spinner("Running it on the packed engine..."):
        executed = cached.engine_times("fashion-mnist-design", None)
except ValueError as exc:  # the shipped model missing or damaged: the rest of the page still teaches
    executed = None
    st.caption(f"The executed cost cannot be shown here: {exc}")
if executed is not None:
    packed, floating = executed["packed"], executed["float"]
    st.markdown(f"Executed, not just counted: on dither_lab's packed 1-bit engine (weights and activations as bits, "
                f"convolutions as XOR and popcount, each kernel a threshold table), the Fashion-MNIST model trained "
                f"with the paper's kernel runs an image in **{1e3 * packed['seconds_per_image']:.3f} ms** with its "
                f"kernel and {1e3 * packed['sign_seconds_per_image']:.3f} ms with Sign in its place: a ratio of "
                f"**{packed['ratio']:.2f}** (1.00 is no extra cost; timed alternately, on the cores this app shares). "
                f"The packed engine runs it {floating['seconds_per_image'] / packed['seconds_per_image']:.1f} times "
                "as fast as the same network in float32 PyTorch.")

st.header("6. What a trained network does with it")
lesson = swap_lesson("fashion-mnist")
if lesson is None:
    st.caption("The kernel study's results are not installed: run `python scripts/kernel_study.py` "
               "(docs/studies.md).")
else:
    st.info(lesson["text"], icon=":material/lightbulb:")
if lesson is not None:
    try:
        st.markdown("**Trained with each, seed against seed** (the Sign/DeSign campaigns, full test set: the runs "
                    "above are one 4-epoch run per kernel, these compare pairs against the spread between seeds). "
                    + finding("fashion-mnist")["text"])
    except ValueError as exc:  # a damaged results file says which
        st.caption(str(exc))
try:
    data = cached.eval_set("fashion-mnist")
    image = np.asarray(data.images[0:1])
    gained = cached.detail_gained("fashion-mnist-design", image, "preset:design-2x2-a")
    summary = cached.summary("fashion-mnist-design", image, "preset:design-2x2-a")
except ValueError as exc:  # the shipped model or images missing: the other links still work
    st.caption(f"The DeSign model's feature maps cannot be shown here: {exc}")
    gained = None
if gained is not None:
    paper = state.name_for("preset:design-2x2-a")
    st.markdown(f"**Inside the DeSign model**, on the first held-out image ({data.classes[int(data.labels[0])]}): "
                + summary_takeaway(summary, paper)
                + f" Channel by channel it varies: in layer {gained['index']}, {paper} keeps more than both Sign and "
                f"Sign at its mean in {gained['ahead']} of {gained['channels']} channels. The clearest of them is "
                f"channel {gained['channel']}: {paper} keeps a local "
                f"correlation of {gained['detail']['dithered']:.3f} (higher is better) where Sign keeps "
                f"{gained['detail']['Sign']:.3f} and Sign at the kernel's mean "
                f"{gained['detail']['shifted Sign']:.3f}.")
st.page_link("app_pages/accuracy.py", label="Accuracy: the DeSign model with Sign swapped in",
             icon=":material/arrow_forward:", query_params={"kernel": "sign", "model": "fashion-mnist-design"})
if gained is not None:
    st.page_link("app_pages/feature_maps.py", label=f"Feature maps: channel {gained['channel']} of layer "
                 f"{gained['index']}, where the kernel beats both",
                 icon=":material/arrow_forward:",
                 query_params={"kernel": "preset:design-2x2-a", "model": "fashion-mnist-design",
                               "layer": str(gained["index"]), "channel": str(gained["channel"]), "index": "0"})
st.page_link("app_pages/study.py", label="Kernel study: where DeSign helped, with the chance band",
             icon=":material/arrow_forward:")
