"""Feature maps: a pretrained BNN's batch-norm output at one layer and channel, binarized by Sign and by a kernel."""

import numpy as np
import streamlit as st

from dither_lab.data import prepare_image
from dither_lab.imaging.compare import METRIC_LABELS
from dither_lab.ui import cached, plots, state, widgets

state.init()
st.title("Feature maps")
st.markdown(
    "Inside a binary network every binary layer sees a batch-normalized map and keeps only its sign. Here you "
    "pick an input, a layer and a channel, and compare what **Sign** keeps with what a **dithered Sign** keeps "
    "— the same comparison as in the image lab, on real activations (values in batch-norm units)."
)
name, model, meta = widgets.loaded_model("fm_model")
dataset = meta["dataset"]
data = None
try:
    data = cached.eval_set(dataset)
except ValueError as exc:  # a damaged Fashion-MNIST subset, or no CIFAR-10 test images on this machine
    why = widgets.cifar10_missing(exc) if dataset == "cifar10" else str(exc)
    st.caption(f"No held-out images: {why}. Sample photos and uploads still work.")

c1, c2 = st.columns([1, 1])
sources = (["held-out image"] if data is not None else []) + ["sample photo", "upload"]
source = c1.radio("Input", sources, horizontal=True,
                  **widgets.kept("fm_source", sources[0], fit=lambda s: s if s in sources else sources[0]))
thumbnail = c2.empty()
# Every control is drawn before the page can stop for want of an image: a browser resets a widget that a run did
# not draw, and a failed upload must not reset the layer, channel or kernel chosen.
layers = widgets.layer_channels(model)
first = next(iter(layers))
layer = c2.selectbox("Binary layer", list(layers), format_func=widgets.layer_label(layers),
                     **widgets.kept("fm_layer", first, fit=lambda n: n if n in layers else first))
channel = c2.number_input("Channel", 0, layers[layer] - 1,
                          **widgets.kept("fm_channel", 0, fit=lambda c: min(int(c), layers[layer] - 1)))
kname, spec = widgets.kernel_select("Kernel for the dithered Sign", "fm_kernel", help="Thresholds in batch-norm "
                                    "units. Used by every view below: the channel, every channel, every layer.")
image = None
if source == "sample photo":
    photo = widgets.photo_choice(c1, "fm_photo", help="Resized to the model's input size.")
    image = prepare_image(cached.sample(photo, "gray" if dataset == "fashion-mnist" else "rgb"), dataset)
elif source == "held-out image":
    idx = c1.slider("Image index", 0, len(data) - 1, **widgets.kept("fm_index", 0, fit=lambda i: min(int(i), len(data) - 1)))
    image = np.asarray(data.images[idx : idx + 1])
    c1.caption(f"class: **{data.classes[int(data.labels[idx])]}**")
else:
    up = c1.file_uploader("Image", type=widgets.UPLOAD_TYPES, key="fm_upload", help="Resized to the model's input size.")
    if up is not None:
        try:
            img, _ = cached.decode_upload(up.getvalue(), "gray" if dataset == "fashion-mnist" else "rgb", up.name)
            image = prepare_image(img, dataset)
        except ValueError as exc:
            widgets.show_error(exc)
if image is None:
    st.info("Upload an image, or pick a held-out image.")
    st.stop()
thumbnail.image(np.moveaxis(image[0], 0, -1) if image.shape[1] == 3 else image[0, 0], caption="model input", width=140)

with st.spinner("Running the model..."):
    maps = cached.maps(name, image, None)
bn = maps[layer]["bn"][0]
try:
    res = cached.activation_compare(bn[channel], spec, int(channel))
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()

real = bn[channel]
h1, h2 = st.columns(2)
h1.plotly_chart(plots.heatmap(real, title=f"batch-norm output, channel {channel}", zmid=0.0), key="fm_real")
kernel_t = [float(t) for t in np.unique(res["thresholds"])]
lines = [("Sign", 0.0)] + [("", t) for t in kernel_t[:16] if t != 0]
h2.plotly_chart(plots.histogram(real, thresholds=lines, title="values; dashed: Sign (0) and the kernel's thresholds",
                                x_title="batch-norm output", y_title="pixels"),
                key="fm_hist")
more = f" (the lowest 8 of {len(kernel_t)}; the lines mark up to 16)" if len(kernel_t) > 8 else ""
h2.caption("Kernel thresholds here: " + ", ".join(f"{t:.3f}" for t in kernel_t[:8]) + more)
shown = res["shown"]
st.plotly_chart(plots.side_by_side([("batch-norm output (clipped to ±3)", shown["real"]), ("Sign", shown["Sign"]),
                                    (f"dithered: {kname}", shown["dithered"])], height=360), key="fm_panels")
rows = [{"output": n, **{label: m[k] for k, label in METRIC_LABELS.items()}} for n, m in res["metrics"].items()]
widgets.metric_table(rows)
st.caption("Metrics compare each binary map ({-1, +1} -> {0, 1}) with the real map mapped linearly from "
           "[-3, 3] to [0, 1] (clipped). The model's own binary output at this layer used its trained kernel; "
           "the panels above apply the chosen kernel to the same batch-norm output.")

st.subheader("Every channel of this layer")
mos = cached.mosaic(bn, spec)
st.plotly_chart(plots.side_by_side([("batch-norm output (clipped to ±3)", mos["shown"]["real"]),
                                    ("Sign", mos["shown"]["Sign"]), (f"dithered: {kname}", mos["shown"]["dithered"])],
                                   height=420), config={"scrollZoom": True, "displaylogo": False}, key="fm_mosaic")
which = f"All {bn.shape[0]}" if mos["channels"] == bn.shape[0] else f"The first {mos['channels']} of the {bn.shape[0]}"
st.caption(f"{which} channels of this layer, {mos['grid'][1]} to a row from the top left, one gray line between "
           f"them; pan and zoom one panel and the others follow. +1 on "
           f"{mos['density']['Sign']:.0%} of these pixels with Sign, {mos['density']['dithered']:.0%} with {kname}.")

st.subheader("Every layer")
summary = cached.summary(name, image, spec)
widgets.metric_table([{"layer": widgets.layer_name(i, r["layer"]), "maps": f"{r['channels']} x {r['height']}x{r['width']}",
                       "+1s with Sign (%)": round(100 * r["sign_ones"], 1),
                       f"+1s with {kname} (%)": round(100 * r["dithered_ones"], 1),
                       "bits the kernel flips (%)": round(100 * r["differs"], 1)} for i, r in enumerate(summary)])
st.caption(f"Each binary layer's batch-norm output on this image (the network running with its trained kernels), "
           f"binarized by Sign and by {kname}: the share of +1s, and of the activations whose bit {kname} changes "
           "against Sign. A kernel with positive thresholds, like the paper's, fires less than Sign.")
