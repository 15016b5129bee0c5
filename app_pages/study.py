"""Kernel study: the measured comparison of Sign, DeSign and every other kernel on the shipped models."""

import streamlit as st

from dither_lab.study import first_study_rows, load_results
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
    first, comp = first_study_rows(dataset), load_results("compare", dataset)
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()


def pct(v):
    return None if v is None else round(100 * v, 2)


st.subheader("Sign against DeSign")
if not first:
    st.info("No training results yet: run `python scripts/campaign.py run ...` then `collect` (see the README).")
else:
    several_seeds = any(r["seeds"] > 1 for r in first)  # else no spread to show
    rows = []
    for r in first:
        row = {"campaign": r["campaign"]}
        if dataset == "cifar10":
            row["ResNet-20 unit"] = r["unit"] or "plain"
        row |= {"activation": "DeSign 2x2" if r["activation"] == "design" else "Sign",
                "BN scale/shift": "learnable" if r["affine"] else "off", "epochs": r["epochs"][0],
                "seeds": r["seeds"], "test accuracy (%)": pct(r["mean"])}
        if several_seeds:
            row["spread (sd, points)"] = pct(r["stdev"]) if r["seeds"] > 1 else None
        rows.append(row | {"shipped": "yes" if r["shipped"] else ""})
    widgets.metric_table(rows)
    st.caption("Full test set; one recipe (Adam, cosine, crop and flip, label smoothing) for every run; trained on "
               "a GPU by `scripts/campaign.py`. *campaign*: the results file "
               "(`benchmarks/results/campaign_<campaign>_<dataset>.json`); *shipped*: the run whose weights are in "
               "`assets/models/`.")

st.subheader("Every kernel")
if comp is None:
    st.info(f"No comparison yet: run `python scripts/compare_kernels.py --dataset {dataset}` (see the README).")
    st.stop()
rows = comp["rows"]
st.markdown("Test accuracy with each kernel swapped into every binary layer of the shipped **Sign model** and "
            "**DeSign model**, and of a network **trained with it**; then the detail each keeps in the DeSign "
            "model's feature maps (**PSNR**, **SSIM**, **TV ratio**). Each header's tooltip says more.")
table = [{"kernel": r["label"], "Sign model (%)": pct(r["swapped_into_sign_model"]),
          "DeSign model (%)": pct(r["swapped_into_design_model"]),
          "trained with it (%)": pct(r["trained_with"]["accuracy"]) if r["trained_with"] else None,
          "epochs": r["trained_with"]["epochs"] if r["trained_with"] else None,
          "PSNR (dB)": round(r["feature_maps_design_model"]["psnr"], 2),
          "SSIM": round(r["feature_maps_design_model"]["ssim"], 3),
          "TV ratio": round(r["feature_maps_design_model"]["tv_ratio"], 2)} for r in rows]
# short headers, so every column fits the page; each says the rest in its tooltip
widgets.metric_table(table, help={
    "Sign model (%)": "Test accuracy of the shipped Sign model with this kernel swapped into every binary layer",
    "DeSign model (%)": "Test accuracy of the shipped DeSign model with this kernel swapped into every binary layer",
    "trained with it (%)": "Test accuracy of a network trained with this kernel (a shorter run: see epochs)",
    "epochs": "Epochs of the trained-with run",
    "PSNR (dB)": "Feature maps of the DeSign model: PSNR of the binary map against its batch-norm input",
    "SSIM": "Feature maps of the DeSign model: SSIM of the binary map against its batch-norm input",
    "TV ratio": "Feature maps of the DeSign model: total variation of the binary map over its input's"})
series = {"swapped into Sign model": [r["swapped_into_sign_model"] for r in rows],
          "swapped into DeSign model": [r["swapped_into_design_model"] for r in rows],
          "trained with": [r["trained_with"]["accuracy"] if r["trained_with"] else None for r in rows]}  # no bar, not 0
st.plotly_chart(plots.grouped_bars([r["key"] for r in rows], series, title="Test accuracy by kernel (trained-with runs are shorter: epochs in the table)",
                                    height=420),
                key="study_bars")
st.caption(f"{comp['test_images']:,} test images; feature-map metrics on the DeSign model, {comp['metric_images']} "
           "images, 8 channels of every binary layer, each binary map against its batch-norm input (range -3..3). "
           "A kernel swapped in at test time meets weights learned for other thresholds; trained-with runs are "
           "shorter than the shipped ones (their epochs are in the table). Made by "
           f"`{comp['made_by']}`.")
