"""Kernel designer: start from a generator or a file, edit the grid, preview, save to the session library."""

import pandas as pd
import streamlit as st

from dither_lab.design import (
    DEFAULT_OBJECTIVE,
    MAXIMIZE,
    OBJECTIVE_LABELS,
    TABLE_OBJECTIVES,
    best_varying,
    binarize_response,
    compared_kernels,
    is_constant,
    ranking_rows,
    response_image,
    result_kernel,
    search_rows,
    search_takeaway,
)
from dither_lab.imaging.preview import RAMP, kernel_preview, kernel_takeaway
from dither_lab.io import kernel_bytes
from dither_lab.kernels import levels_spec
from dither_lab.ui import cached, generator, plots, state, widgets

state.init()
st.title("Kernel designer")
st.markdown(
    "A threshold kernel is a small grid of thresholds tiled over the whole map. Start from a generator or a "
    "file, edit the numbers, and watch the tiled map, its histogram and spectrum, and what it does to a ramp. "
    "Values are in **batch-norm units** (a dithered Sign compares a standardized activation with them); "
    "the image lab reads generator kernels in image units by itself."
)

ss = st.session_state
state.open_designer()

with st.expander("Start from a generator", expanded=True):
    generator.panel()

with st.expander("Load a kernel file (JSON, .npy, or the DeSign authors' .mat)"):
    st.file_uploader("Kernel file", type=["json", "npy", "mat"], key="des_upload", on_change=state.load_upload,
                     args=("des_upload",), kwargs={"source": "file"})
    if (message := state.designer_message("file")) is not None:
        getattr(st, message[0])(message[1])

with st.expander("Design by search: the DeSign procedure, exhaustive and exact"):
    st.markdown(
        "The paper binarizes gray images to ±1, convolves them with a random ±1 3x3 kernel and applies ReLU, "
        "giving responses in the levels {0, 1, 3, 5, 7, 9}; every kernel over those levels is then scored on how "
        "it binarizes the responses. The default, **local tone**, compares the output's 2x2 local means with the "
        "response's, as a low-pass sees them (the eye's, or the next layer's sum over its receptive field), and "
        "is won by a kernel that dithers. Beware the others: maximizing the **total variation** of the output "
        "alone, the paper's objective, is won by an image-independent checkerboard (a 0 that always fires beside "
        "a 9 that rarely does), and the pixel-by-pixel ones (**PSNR**, **correlation**, **MSE**) and **TV "
        "matched** (a whole-map statistic) by a constant kernel (every level equal: Sign moved), which the results "
        "say."
    )
    objective = st.selectbox("Objective", list(TABLE_OBJECTIVES), format_func=OBJECTIVE_LABELS.get,
                             **widgets.kept("des_obj", DEFAULT_OBJECTIVE))  # a row of its own: its labels are long
    o2, o3 = st.columns(2)
    size = o2.radio("Size", [2, 3, 4, 8], horizontal=True, **widgets.kept("des_size", 2),
                    format_func=lambda k: f"{k}x{k} ({6 ** (k * k):,})" if k <= 3 else f"{k}x{k} (local search)")
    count = o3.select_slider("Images (held-out subset)", [200, 500, 1000, 2000], **widgets.kept("des_count", 500))
    slices3d = o2.radio("3-D: channel slices", [1, 2, 4], horizontal=True, **widgets.kept("des_slices", 1),
                                help="F > 1: a DeSign3D kernel whose slice f thresholds channels c = f mod F. Each "
                                     "slice is the best kernel for its own channels' responses (one random "
                                     "convolution per channel).")
    beyond = size > 3 or slices3d > 1  # past the one exhaustive table: the library's design_kernel
    if size > 3:  # a 3-D search of 2x2 or 3x3 slices still scores every candidate of each slice
        st.caption("Past 3x3 not every candidate can be scored (6^16 for 4x4): a coordinate descent on the same exact "
                   "tables tries all six levels of one entry at a time, from 8 random starts (and the 2x2 optimum "
                   "tiled up), until no single change helps. A local optimum, not a proven global one.")
    if st.button("Search", key="des_search"):
        ss["des_search_on"] = True
    if (message := state.designer_message("search")) is not None:
        st.error(message[1])
    score = f"score {'↑' if MAXIMIZE[objective] else '↓'}"
    if ss.get("des_search_on") and beyond:
        with st.spinner("Searching..."):
            res = cached.design_beyond(size, slices3d, objective, count, 0)
        found_spec, found_name, first = result_kernel(res)
        st.info(search_takeaway(res), icon=":material/lightbulb:")
        widgets.metric_table(search_rows(res), better={} if slices3d > 1 else
                             {score: "higher" if res["maximize"] else "lower"})
        st.caption(f"{res['seconds']:.2f} s on {count} images.")
        st.plotly_chart(plots.side_by_side([("response R/9 (channel 0)", response_image(res["response"])),
                                            (f"best, slice 0: {first}", binarize_response(res["response"], first))],
                                           height=300), key="des_beyond_panels")
        st.button("Load the result into the editor", key="des_load_beyond", on_click=state.load_spec,
                  args=(found_spec, found_name), kwargs={"source": "search"})
    elif ss.get("des_search_on"):
        with st.spinner("Scoring every candidate exactly..."):
            res, resp = cached.design_search(size, objective, count, 0)
        st.info(search_takeaway(res), icon=":material/lightbulb:")
        st.caption(f"{res['count']:,} candidates on {res['images']} images in {res['seconds']:.2f} s (exact tables).")
        rows = ranking_rows(res)
        widgets.metric_table(rows, better={"rank ↓": "lower", score: "higher" if res["maximize"] else "lower"},
                             help={score: f"{OBJECTIVE_LABELS[objective]}: {'higher' if res['maximize'] else 'lower'} "
                                          "is better.", "rank ↓": f"1 is the best of all {res['count']:,}."},
                             pinned=("kernel",))
        h = res["histogram"]
        st.plotly_chart(plots.score_histogram(h["counts"], h["edges"], {n: e["score"] for n, e in res["presets"].items()},
                                              title=f"Scores of all {res['count']:,} candidates",
                                              x_title=f"score: {OBJECTIVE_LABELS[objective]} "
                                                      f"({'higher' if res['maximize'] else 'lower'} is better)"),
                        key="des_hist_scores")
        panels = [("response R/9", response_image(resp))]
        panels += [(title, binarize_response(resp, lv)) for title, lv in compared_kernels(res)]
        st.plotly_chart(plots.side_by_side(panels, height=300, per_row=3), key="des_search_panels")
        b1, b2 = st.columns(2)
        b1.button("Load the best into the editor", key="des_load_best", on_click=state.load_spec,
                  args=result_kernel(res)[:2], kwargs={"source": "search"})
        if is_constant(res["best"][0]["levels"]) and (varying := best_varying(res)) is not None:
            b2.button("Load the best that varies", key="des_load_varying", on_click=state.load_spec,
                      args=(levels_spec(varying["levels"]), f"best varying {objective} {size}x{size}"),
                      kwargs={"source": "search"})

work = ss[state.K_DESIGNER]
vals = work["values"]

st.subheader("Edit")
if (kept := state.kept_edit()) is not None:
    st.info(f"The kernel you had edited is kept in the library as {kept!r}: loading another never loses it.")
version = ss.get("des_editor_version", 0)
c1, c2, c3, c4 = st.columns(4)
rows = c1.number_input("Rows", 1, 16, int(vals.shape[1]), key=f"des_rows_{version}")
cols = c2.number_input("Columns", 1, 16, int(vals.shape[2]), key=f"des_cols_{version}")
slices = c3.number_input("3-D slices", 1, 8, int(vals.shape[0]), key=f"des_f_{version}",
                         help="A 3-D kernel gives channel c the slice c mod F (DeSign3D).")
vals = state.resize_designer((slices, rows, cols))
s = c4.number_input("Slice shown", 0, int(slices) - 1, 0, key="des_slice") if slices > 1 else 0

col_names = [f"col {j}" for j in range(int(cols))]
grid = pd.DataFrame(vals[s], columns=col_names, index=[f"row {i}" for i in range(int(rows))])
edited = st.data_editor(grid, key=f"des_grid_{version}_{s}_{rows}_{cols}", width="stretch",
                        column_config={c: st.column_config.NumberColumn(c, format="%.4f") for c in col_names})
kernel, error = state.edit_designer(s, edited)
if error:
    st.error(f"{error}. The preview keeps the last valid kernel; your edit is kept in the grid.")

spec = state.designer_spec(work)  # the grid keeps only valid kernels: an invalid edit leaves the last one
preview = kernel_preview(kernel, slice=min(int(s), kernel.shape[0] - 1) if kernel.is_3d else 0)
if preview.constant == 0:  # said where the kernel is loaded and edited
    st.info(kernel_takeaway(preview), icon=":material/info:")
elif preview.constant is not None:  # a shifted Sign
    st.warning(kernel_takeaway(preview), icon=":material/warning:")

st.subheader("Preview")
if preview.constant is None:
    st.info(kernel_takeaway(preview), icon=":material/lightbulb:")
p1, p2 = st.columns(2)
side = preview.tiled.shape[0]
p1.plotly_chart(plots.heatmap(preview.tiled, title=f"Tiled map, {side}x{side} (batch-norm units)", zmid=0.0),
                key="des_tiled")
p2.plotly_chart(plots.histogram(kernel.values, title="Threshold values", thresholds=[("Sign", 0.0)],
                                x_title="threshold (batch-norm units)", y_title="cells"), key="des_hist")
st.plotly_chart(plots.side_by_side([(f"Sign on a ramp from {RAMP[0]:g} to {RAMP[1]:g}", preview.ramp_sign),
                                    ("this kernel on the same ramp", preview.ramp_kernel)], height=140),
                key="des_ramp")
if preview.constant is None:
    st.plotly_chart(plots.spectra([("tiled map", *preview.spectrum)], title="Spectrum of the tiled map"), key="des_spec")
else:
    st.caption("Spectrum of the tiled map: none. Every threshold is the same, so the map is flat and has no power at "
               "any frequency.")

st.subheader("Keep it")
# a new field for each kernel loaded, so the name offered is that kernel's; a name typed in it stays
ss.setdefault(state.name_field_key(), work["name"])
name = st.text_input("Name in the session library", key=state.name_field_key())
k2, k3 = st.columns(2)
if k2.button("Save to library", disabled=error is not None, key="des_save"):
    state.save_kernel(name, spec, page="designer")
if (used := state.saved("designer")) is not None:
    st.success(f"Saved as {used!r}: every page can use it now. The sidebar's Kernel library downloads the library, "
               "to keep it after this tab closes.")
if k3.button("Use as current kernel", disabled=error is not None, key="des_use"):
    state.set_current_kernel(spec)
    st.success("It is the current kernel (in the URL too, so the view can be shared).")
d1, d2, d3 = st.columns(3)
for col, fmt in zip((d1, d2, d3), ("json", "npy", "mat"), strict=True):
    col.download_button(f"Download .{fmt}", kernel_bytes(kernel, fmt), file_name=f"kernel.{fmt}", key=f"des_dl_{fmt}")
per = preview.thresholds_per_channel
st.caption(f"Spec: `{spec}`. Folded with batch norm at inference, this kernel needs {per} threshold"
           f"{'s' if per > 1 else ''} per channel where Sign needs 1, and no extra arithmetic.")
if error is None:
    st.page_link("app_pages/accuracy.py", label="What it does to a pretrained network's accuracy, and what it costs it",
                 icon=":material/arrow_forward:", query_params={"kernel": spec})
