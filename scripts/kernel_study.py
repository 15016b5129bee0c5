"""The comparison study: every study kernel on the shipped models, swapped in at test time and trained with.

    python scripts/kernel_study.py --dataset fashion-mnist --data PATH/fashion-mnist
    python scripts/kernel_study.py --dataset cifar10 --data PATH/cifar10-jpg.tar.gz --count 2000

For both shipped models of the dataset (trained with Sign and with DeSign): test accuracy with each kernel of
``dither_lab.study.STUDY_KERNELS`` swapped into every binary layer, plus the paper's 2x2 kernel with levels scaled
from data and a kernel learned on 10,000 training images (1,000 per class); the test images are the whole test
set or ``--count`` of them, the same number per class; and the detail each kernel keeps in the feature maps
(``dither_lab.study.feature_map_metrics``). Accuracy when trained with each kernel is joined from the training
campaign's results (dither_lab/assets/study/campaign_short_<dataset>.json, made by scripts/campaign.py), where they exist.
Writes dither_lab/assets/study/kernel_study_<dataset>.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time

import checkout
import numpy as np
import torch

from dither_lab.data import balanced_subset, load_dataset
from dither_lab.io import record_asset
from dither_lab.nn.models import load_pretrained
from dither_lab.study import METRIC_KEYS, kernel_runs, load_results, run_kernel_study


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", choices=["fashion-mnist", "cifar10"], required=True)
    p.add_argument("--data", default=None, help="dataset path (default: the data folder)")
    p.add_argument("--count", type=int, default=10000, help="test images")
    p.add_argument("--learn-steps", type=int, default=200)
    p.add_argument("--metric-images", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--table", action="store_true", help="only print the Markdown table of the saved results")
    checkout.add_assets_option(p)
    a = p.parse_args()
    checkout.use_assets(a.assets)
    if a.table:
        comp = load_results("kernel_study", a.dataset, folder=checkout.STUDY)
        if comp is None:
            p.error(f"no kernel_study_{a.dataset}.json in {checkout.STUDY} yet; run without --table first")
        print(markdown(comp["rows"]))
        return
    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    test = balanced_subset(load_dataset(a.dataset, "test", path=a.data), a.count)  # each class alike
    train = balanced_subset(load_dataset(a.dataset, "train", path=a.data), 10000)
    models = {}
    for act in ("sign", "design"):
        model, _ = load_pretrained(f"{a.dataset}-{act}")
        print(f"== model trained with {act}")
        models[act] = run_kernel_study(model, test, train=train, metric_images=a.metric_images,
                                      learn_steps=a.learn_steps, progress=lambda s: print("  " + s, flush=True))
    camp = load_results("campaign_short", a.dataset, folder=checkout.STUDY)
    tw = {} if camp is None else kernel_runs(camp)
    rows = []
    for i, r in enumerate(models["design"]):
        s = models["sign"][i]
        rows.append({"key": r["key"], "label": r["label"], "spec_on_design_model": r["spec"],
                     "spec_on_sign_model": s["spec"], "swapped_into_sign_model": s["accuracy"],
                     "swapped_into_design_model": r["accuracy"], "trained_with": tw.get(r["key"]),
                     "feature_maps_design_model": {k: r[k] for k in METRIC_KEYS},
                     "feature_maps_sign_model": {k: s[k] for k in METRIC_KEYS}})
    out = checkout.STUDY / f"kernel_study_{a.dataset}.json"
    out.write_text(json.dumps({"made_by": f"python scripts/kernel_study.py --dataset {a.dataset} --count {a.count}",
                               "test_images": len(test), "metric_images": a.metric_images,
                               "learn_steps": a.learn_steps, "seconds": round(time.perf_counter() - t0, 1),
                               "rows": rows}, indent=2) + "\n")
    record_asset(f"study/{out.name}", made_by=f"python scripts/kernel_study.py --dataset {a.dataset} --count {a.count}",
                 assets_dir=checkout.ASSETS)
    print(f"wrote {out}\n")
    print(markdown(rows))


def markdown(rows: list[dict]) -> str:
    """The README table."""
    def pct(v: float | None) -> str:
        return "—" if v is None else f"{100 * v:.2f}"

    lines = ["| kernel | swapped into Sign model | swapped into DeSign model | trained with (epochs) | "
             "feature-map PSNR (dB) | SSIM | TV ratio |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        tw = r["trained_with"]
        fm = r["feature_maps_design_model"]
        lines.append(f"| {r['label']} | {pct(r['swapped_into_sign_model'])} | {pct(r['swapped_into_design_model'])} | "
                     f"{'—' if tw is None else pct(tw['accuracy']) + ' (' + str(tw['epochs']) + ')'} | "
                     f"{fm['psnr']:.2f} | {fm['ssim']:.3f} | {fm['tv_ratio']:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
