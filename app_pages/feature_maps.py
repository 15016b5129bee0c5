"""Feature maps: a pretrained BNN's batch-norm output at one layer and channel, binarized by Sign, by a kernel and
by Sign at the kernel's mean threshold."""

import numpy as np
import streamlit as st

from dither_lab.data import prepare_image
from dither_lab.imaging.metrics import DEFAULT_PPD, KEPT, OTHERS, describe_viewing
from dither_lab.nn.feature_maps import (
    comparison_rows,
    detail_columns,
    is_centred,
    layer_parts,
    layer_rows,
    shifted_label,
    shifted_sign_name,
    summary_takeaway,
    takeaway,
)
from dither_lab.nn.models import resolve_layers
from dither_lab.ui import cached, plots, state, widgets

state.init()
st.title("Feature maps")
st.markdown(
    "Inside a binary network every binary layer sees a batch-normalized map and keeps only its sign. Pick an input, "
    "a layer and a channel, and compare what **Sign** keeps with what a **kernel** keeps, on real activations."
)
st.info("Feature maps are in batch-norm units, so a kernel whose thresholds are not centred on 0 also shifts the "
        "share of +1s (the paper's are all positive: fewer +1s). To tell that shift from detail, the views of such a "
        "kernel show Sign, the kernel, and **Sign at the kernel's mean threshold**: the same shift with one "
        "threshold. What the kernel adds is the difference between those two; *local correlation* measures the "
        "detail kept, whatever the shift. (For a centred kernel, Sign at its mean is Sign: it is left out.)",
        icon=":material/info:")
name, model, meta = widgets.loaded_model("fm_model")
dataset = meta["dataset"]
data = None
try:
    data = cached.eval_set(dataset)
except ValueError as exc:  # a damaged Fashion-MNIST subset, or no CIFAR-10 test images on this machine
    hint = widgets.cifar10_hint() if dataset == "cifar10" else ""
    st.caption((hint or f"No held-out images: {exc}.") + " Sample photos and uploads work meanwhile.")

layers = widgets.layer_channels(model)
titles = widgets.layer_titles(name)
first = next(iter(layers))


def _layer(text: str) -> str:  # an index from 0 or a name, as --layers takes them
    return resolve_layers(model, [int(text) if text.isdigit() else text])[0]


def _whole(limit: int, what: str):
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) >= limit:
            raise ValueError(f"{text!r} is not a {what}: give 0 to {limit - 1}")
        return int(text)
    return parse


# a link opens a layer, a channel and a held-out image (Learn links to a channel where the kernel keeps detail)
widgets.from_link("layer", "fm_layer", _layer)
if data is not None and widgets.from_link("index", "fm_index", _whole(len(data), "held-out image index")):
    st.session_state["dl_kept_fm_source"] = "held-out image"

c1, c2 = st.columns([1, 1])
sources = (["held-out image"] if data is not None else []) + ["sample photo", "upload"]
source = c1.radio("Input", sources, horizontal=True,
                  **widgets.kept("fm_source", sources[0], fit=lambda s: s if s in sources else sources[0]))
thumbnail = c2.empty()
# Every control is drawn before the page can stop for want of an image: a browser resets a widget that a run did
# not draw, and a failed upload must not reset the layer, channel or kernel chosen.
layer = st.selectbox("Binary layer", list(layers), format_func=titles.get,
                     help="Numbered from 0, as `--layers` and `dither-lab maps --layer` count them; the module's "
                          "name in brackets.",
                     **widgets.kept("fm_layer", first, fit=lambda n: n if n in layers else first))
widgets.from_link("channel", "fm_channel", _whole(layers[layer], f"channel of layer {list(layers).index(layer)}"))
k1, k2 = st.columns([1, 2])
channel = k1.number_input("Channel", 0, layers[layer] - 1, help="Or click a channel in the mosaic below.",
                          **widgets.kept("fm_channel", 0, fit=lambda c: min(int(c), layers[layer] - 1)))
with k2:
    kname, spec = widgets.kernel_select("Kernel for the dithered Sign", "fm_kernel", help="Thresholds in batch-norm units. Used by every "
                                        "view below: the channel, every channel, every layer.")
image, idx = None, None
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
state.leave_link("layer", layer, same=lambda text, n: text in (n, str(list(layers).index(n))))
state.leave_link("channel", str(channel))
state.leave_link("index", None if idx is None else str(idx))
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

shifted = shifted_label(res["shift"])
st.subheader(f"Channel {channel} of layer {list(layers).index(layer)}")
real = bn[channel]
h1, h2 = st.columns(2)
h1.plotly_chart(plots.heatmap(real, title="batch-norm output", zmid=0.0), key="fm_real")
kernel_t = [float(t) for t in np.unique(res["thresholds"])]
centred = is_centred(res)  # Sign at a centred kernel's mean is Sign: not shown twice
h2.plotly_chart(plots.threshold_histogram(real, thresholds=kernel_t, shift=None if centred else res["shift"],
                                          title="values against the thresholds", x_title="batch-norm output"),
                key="fm_hist")
listed = ", ".join(f"{t:.3f}" for t in kernel_t[:6]) + (f", ... ({len(kernel_t)} in all)" if len(kernel_t) > 6 else "")
h2.caption(f"{kname}'s thresholds here: {listed} (shaded, a tick at each of up to 16)"
           + ("." if centred else "; the dotted line is where Sign at the kernel's mean cuts."))
shown = res["shown"]
st.plotly_chart(plots.align_top(plots.side_by_side([("batch-norm output (±3)", shown["real"]), ("Sign", shown["Sign"]),
                                                   (kname, shown["dithered"])]
                                                  + ([] if centred else [(shifted, shown["shifted"])]), height=220)),
                key="fm_panels")
rows = comparison_rows(res, kname)
map_mean = res["metrics"]["Sign"]["reference_mean"]
for keys in (KEPT, OTHERS):  # two tables, so that each fits the page
    widgets.output_metrics(rows, keys, mean=map_mean, viewing=describe_viewing(DEFAULT_PPD), spec=False,
                           output_help=f"Sign, {kname}" + ("" if centred else f", and {shifted}: Sign with one "
                                       f"threshold at {kname}'s mean"))
st.info(takeaway(res, kname), icon=":material/lightbulb:")
st.caption(f"Green: the best of each column (arrows say which way is better; share of 1s: nearest the map's mean, "
           f"{map_mean:.3f} on the same scale). "
           + (f"{kname}'s thresholds are centred on 0, so Sign at their mean is Sign itself: no row of its own. "
              if centred else f"{shifted}: Sign with one threshold at {kname}'s mean, the same shift of the share "
              "of +1s without the kernel's pattern. ")
           + "Each binary map ({-1, +1} as {0, 1}) against the real map mapped from [-3, 3] to "
           "[0, 1]; PSNR and SSIM compare pixel by pixel, so they penalize any binary texture. The network itself "
           "ran with its trained kernels: the panels apply the chosen kernel to the same batch-norm output.")

st.subheader("Every channel of this layer")
mos = cached.mosaic(bn, spec)


def _pick_channel() -> None:
    points = st.session_state["fm_mosaic"].selection.get("points") or []
    if points and points[0].get("point_index") is not None:
        st.session_state["dl_kept_fm_channel"] = int(points[0]["point_index"])


st.plotly_chart(plots.align_top(plots.channel_mosaic([("batch-norm output (±3)", mos["shown"]["real"]), ("Sign", mos["shown"]["Sign"]),
                                      (kname, mos["shown"]["dithered"])]
                                     + ([] if centred else [(shifted, mos["shown"]["shifted"])]),
                                     grid=mos["grid"], tile=mos["tile"], channels=mos["channels"],
                                     current=channel if channel < mos["channels"] else None, height=360)),
                config={"scrollZoom": True, "displaylogo": False}, key="fm_mosaic", on_select=_pick_channel,
                selection_mode="points")
which = f"All {bn.shape[0]}" if mos["channels"] == bn.shape[0] else f"The first {mos['channels']} of the {bn.shape[0]}"
st.caption(f"{which} channels, {mos['grid'][1]} to a row from the top left (channel {channel} framed). **Click a "
           f"channel** to look at it above; pan and zoom one panel and the others follow. +1 on "
           f"{mos['density']['Sign']:.0%} of these pixels with Sign, {mos['density']['dithered']:.0%} with {kname}"
           + ("." if centred else f", {mos['density']['shifted']:.0%} with Sign at its mean."))

st.subheader("Every layer")
summary = cached.summary(name, image, spec)
if not summary:
    st.info("This model has no binary layers to compare.")
    st.stop()
st.info(summary_takeaway(summary, kname), icon=":material/lightbulb:")
detail, network = layer_parts(layer_rows(summary, kname, cached.layer_places(name)))
kept = tuple(c for c in detail[0] if c != "layer")
shift_note = shifted_sign_name(summary, kname)
widgets.metric_table(detail, pinned=("layer",), row_best=((kept, "higher"),), help={
    kept[0]: "Local correlation of Sign's binary maps with the batch-norm output, per channel, averaged: detail kept, "
             "whatever the shift.",
    detail_columns(kname)[2]: f"The same for {shift_note}: the shift without the pattern. A channel it turns all -1 "
                              "keeps nothing (0)."})
widgets.metric_table(network, pinned=("layer",), help={
    "BN mean": "The mean batch-norm output of the layer: where the trained network puts its activations against "
               "the thresholds (its own shift).",
    "bits flipped (%)": f"Activations whose bit {kname} sets otherwise than Sign: how much it changes, neither "
                        "better nor worse."})
st.caption(f"Each binary layer's batch-norm output on this image (the network running with its trained kernels), "
           f"binarized by Sign, by {kname}" + ("" if len(kept) < 3 else f" and by {shift_note}") + ". Green: the most "
           "detail kept in each layer (higher is better). The second table describes rather than scores, so nothing "
           "in it is marked: where the network puts its activations (BN mean), the share of +1s each binarization "
           "gives, and the bits the kernel flips against Sign (how much it changes).")
