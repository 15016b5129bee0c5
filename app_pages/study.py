"""Kernel study: the measured comparison of Sign, DeSign and every other kernel on the shipped models."""

import streamlit as st

from dither_lab.study import (
    TEST_IMAGES,
    finding,
    finding_rows,
    first_study_rows,
    kernel_rows,
    kernel_takeaway,
    load_results,
    run_rows,
)
from dither_lab.ui import plots, state, widgets

state.init()
st.title("Kernel study")
st.markdown(
    "What the project measured, whichever way it came out: **Sign against DeSign** trained with one recipe "
    "(with and without learnable batch-norm scale and shift), and **every kernel** of the study swapped into the "
    "shipped models at test time, trained with where compute allowed, and the detail each keeps in the feature maps. "
    "To try a kernel yourself, use the **Accuracy** page."
)
dataset = st.radio("Dataset", ["fashion-mnist", "cifar10"], horizontal=True, key="study_ds",
                   format_func={"fashion-mnist": "Fashion-MNIST", "cifar10": "CIFAR-10 (JPEG copy)"}.get)
try:
    first, comp, found = first_study_rows(dataset), load_results("kernel_study", dataset), finding(dataset)
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()


st.subheader("Where DeSign helped")
if not found["pairs"]:
    st.info("No Sign/DeSign pair trained yet: run `python scripts/campaign.py run ...` then `collect` (docs/models.md).")
else:
    st.info(found["text"], icon=":material/lightbulb:")
    widgets.metric_table(finding_rows(found["pairs"]), pinned=("campaign",),
                         row_best=((("Sign (%) ↑", "DeSign (%) ↑"), "higher"),), help={
        "DeSign − Sign (points)": "DeSign's test accuracy minus Sign's, same campaign, recipe and batch-norm setting.",
        "chance ± (points)": "Two standard deviations of the difference from chance alone: the seed-to-seed spread "
                             "where a campaign ran several seeds (else the one measured on this dataset, or test-set "
                             "sampling alone). A smaller difference is no evidence.",
        "BN scale/shift": "Batch norm's learnable scale and shift (gamma, beta): on, or off as in the authors' runs."})
    st.caption("Each row a Sign/DeSign pair of one campaign; green: the higher of the two. Full test set "
               f"({TEST_IMAGES:,} images).")

st.subheader("Every run")
if not first:
    st.info("No training results yet: run `python scripts/campaign.py run ...` then `collect` (docs/models.md).")
else:
    widgets.metric_table(run_rows(first, dataset), pinned=("campaign",))
    st.caption("Full test set; one recipe (Adam, cosine, crop and flip, label smoothing) for every run; trained on "
               "a GPU by `scripts/campaign.py`. Runs of different length are not compared here (the pairs above "
               "are). *campaign*: the results file (`study/campaign_<campaign>_<dataset>.json` of the package's assets); "
               "*shipped*: the run whose weights ship with dither_lab.")

st.subheader("Every kernel")
if comp is None:
    st.info(f"No comparison yet: run `python scripts/kernel_study.py --dataset {dataset}` (docs/studies.md).")
    st.stop()
names = state.names_by_spec()
st.info(kernel_takeaway(comp, names=names), icon=":material/lightbulb:")
subset = comp["test_images"] < TEST_IMAGES  # then the shipped models' figures differ from the runs' above
st.markdown(f"Test accuracy on {comp['test_images']:,} test images"
            + (f" (the tables above use all {TEST_IMAGES:,}, so the shipped models score differently here)"
               if subset else "")
            + " with each kernel swapped into every binary layer of the shipped **Sign model** and **DeSign model**, "
            "and of a network **trained with it**; then the detail each keeps in the DeSign model's feature maps "
            "(**PSNR**, **SSIM**, **TV ratio**). Each header's tooltip says more.")
table = kernel_rows(comp, names=names)
for cols in table["parts"].values():  # accuracies, then the detail in feature maps: each table fits the page
    widgets.metric_table([{c: r[c] for c in cols} for r in table["rows"]], help=table["help"],
                         better=table["better"], pinned=("kernel",), max_text={"kernel": 50})
rows = comp["rows"]
series = {"swapped into the Sign model": [r["swapped_into_sign_model"] for r in rows],
          "swapped into the DeSign model": [r["swapped_into_design_model"] for r in rows],
          "trained with it": [r["trained_with"]["accuracy"] if r["trained_with"] else None for r in rows]}  # no bar, not 0
chart = plots.grouped_hbars([r["kernel"] for r in table["rows"]], series, most_chars=50,
                            title="Test accuracy by kernel (trained-with runs are shorter: epochs in the table)")
st.plotly_chart(chart, key="study_bars")
st.caption(f"{comp['test_images']:,} test images; feature-map metrics on the DeSign model, {comp['metric_images']} "
           "images, 8 channels of every binary layer, each binary map against its batch-norm input (range -3..3). "
           "Green: the best of each column. PSNR and SSIM compare pixel by pixel and penalize any binary texture, "
           "so they favour Sign; the Feature maps page measures detail apart from the shift (local correlation). "
           f"Made by `{comp['made_by']}`.")
