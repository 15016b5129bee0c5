"""The comparison study of threshold kernels on trained BNNs.

Which kernels are compared (:data:`STUDY_KERNELS`), their accuracy when swapped into a trained model at test
time and the detail each keeps in the model's feature maps (:func:`run_kernel_study`, :func:`feature_map_metrics`).
Accuracy when *trained with* a kernel comes from training runs (``scripts/campaign.py``); the study script
``scripts/kernel_study.py`` joins both into ``dither_lab/assets/study/kernel_study_<dataset>.json``.

The designed kernels are this project's own searches on the paper's simulated responses (the embedded 2,000-image
Fashion-MNIST subset, first 1,000 images, seed 0), reproduced by ``tests/test_study.py``::

    python -m dither_lab design --size 2x2 --objective tv --count 1000     # [[0,9],[9,0]]
    python -m dither_lab design --size 3x3 --objective tv --count 1000     # [[9,0,0],[0,9,9],[9,0,9]]
    python -m dither_lab design --size 3x3 --objective psnr --count 1000   # every entry 5: a constant threshold
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dither_lab._text import percent, trained_with_header
from dither_lab.data import Dataset
from dither_lab.kernels import PRESETS, Kernel
from dither_lab.kernels.levels import levels_to_bn


@dataclass(frozen=True)
class StudyKernel:
    """One kernel of the study.

    Attributes:
        key: short name (file and run names).
        label: what tables and plots show.
        activation: the ``activation`` argument of :func:`dither_lab.nn.models.build_model` that trains with it.
        spec: the kernel swapped in at test time (None: learned from the model by :func:`run_kernel_study`).
    """

    key: str
    label: str
    activation: str
    spec: str | None


STUDY_KERNELS: tuple[StudyKernel, ...] = (
    StudyKernel("sign", "Sign", "sign", "sign"),
    StudyKernel("design-2x2-a", "DeSign 2x2 [[1,1],[0,3]] (paper default)", "design", "preset:design-2x2-a"),
    StudyKernel("design-2x2-b", "DeSign 2x2 [[1,1],[3,3]]", "preset:design-2x2-b", "preset:design-2x2-b"),
    StudyKernel("design-2x2-c", "DeSign 2x2 [[1,3],[1,3]]", "preset:design-2x2-c", "preset:design-2x2-c"),
    StudyKernel("design-3x3-a", "DeSign 3x3 [[3,1,3],[1,0,1],[3,1,3]]", "preset:design-3x3-a", "preset:design-3x3-a"),
    StudyKernel("design-3x3-b", "DeSign 3x3 [[5,1,3],[1,0,1],[3,1,5]]", "preset:design-3x3-b", "preset:design-3x3-b"),
    StudyKernel("design-3x3-c", "DeSign 3x3 [[3,0,3],[0,1,0],[3,0,3]]", "preset:design-3x3-c", "preset:design-3x3-c"),
    StudyKernel("design3d-2x2x4", "DeSign3D 2x2x4 (channel-cycled)", "design3d", "preset:design3d-2x2x4"),
    StudyKernel("bayer-2", "Bayer 2x2", "bayer:2", "bayer:2"),
    StudyKernel("bayer-4", "Bayer 4x4", "bayer:4", "bayer:4"),
    StudyKernel("blue-noise-8", "blue noise 8x8", "blue-noise:8", "blue-noise:8"),
    StudyKernel("tv-2x2", "TV-designed 2x2 [[0,9],[9,0]] (this search)", "levels:0,9;9,0", "levels:0,9;9,0"),
    StudyKernel("tv-3x3", "TV-designed exact 3x3 [[9,0,0],[0,9,9],[9,0,9]]", "levels:9,0,0;0,9,9;9,0,9",
                "levels:9,0,0;0,9,9;9,0,9"),
    StudyKernel("psnr-3x3", "PSNR-designed exact 3x3 (constant level 5)", "levels:5", "levels:5"),
    StudyKernel("learned", "learned kernel (STE, from DeSign 2x2)", "learned", None),
)


def study_kernel(key: str) -> StudyKernel:
    """The study kernel named ``key``."""
    for k in STUDY_KERNELS:
        if k.key == key:
            return k
    raise ValueError(f"unknown study kernel {key!r}; valid keys: {', '.join(k.key for k in STUDY_KERNELS)}")


__all__ = ["StudyKernel", "STUDY_KERNELS", "METRIC_KEYS", "study_kernel", "feature_map_metrics", "measured_levels",
           "levels_kernel", "run_kernel_study", "results_dir", "load_results", "campaigns", "first_study",
           "first_study_rows", "shipped_accuracy", "kernel_runs", "trained_with", "finding", "finding_rows",
           "swap_lesson", "kernel_rows", "kernel_takeaway"]



# ------------------------------------------------------------------------------------------------ measurements


def feature_map_metrics(model: Any, images: np.ndarray, dataset: str, kernel: Any = None, *,
                        channels: int = 8) -> dict[str, float]:
    """Detail kept by the binary layers: :func:`dither_lab.imaging.metrics.detail_metrics` of each binary output against
    its batch-norm input (range -3..3), averaged over the first ``channels`` channels of every image and layer.

    Args:
        model: a BNN; ``kernel`` (spec, Kernel or array) is swapped into all its binary layers first (a copy).
        images: uint8 (N, C, H, W).
        dataset: the dataset the model was trained on.
    """
    from dither_lab.imaging.metrics import detail_metrics
    from dither_lab.nn.evaluate import with_kernel
    from dither_lab.nn.feature_maps import ACTIVATION_RANGE

    if channels < 1:
        raise ValueError(f"channels must be >= 1, got {channels}")
    m = model if kernel is None else with_kernel(model, kernel)[0]
    sums: dict[str, float] = {}
    n = 0
    for maps in _chunked_layer_maps(m, images, dataset):
        bn, binary = maps["bn"], maps["binary"]
        for i in range(bn.shape[0]):
            for c in range(min(channels, bn.shape[1])):
                d = detail_metrics(bn[i, c], binary[i, c], value_range=ACTIVATION_RANGE, binary_values=(-1.0, 1.0))
                for k in METRIC_KEYS:
                    sums[k] = sums.get(k, 0.0) + float(d[k])
                n += 1
    return {k: v / n for k, v in sums.items()}


#: Images whose feature maps are held at once (ResNet-20: 1.47 MB an image, batch-norm and binary maps).
_MAPS_CHUNK = 64


def _chunked_layer_maps(model: Any, images: np.ndarray, dataset: str) -> Iterator[dict[str, np.ndarray]]:
    """Every binary layer's maps (:func:`dither_lab.nn.feature_maps.layer_maps`), ``_MAPS_CHUNK`` images at a time."""
    from dither_lab.nn.feature_maps import layer_maps

    if len(images) == 0:
        raise ValueError("images must hold at least one image")
    for start in range(0, len(images), _MAPS_CHUNK):
        yield from layer_maps(model, images[start : start + _MAPS_CHUNK], dataset).values()


#: The detail metrics averaged by :func:`feature_map_metrics`.
METRIC_KEYS = ("psnr", "ssim", "tv_ratio", "residual_correlation", "density")


def measured_levels(model: Any, images: np.ndarray, dataset: str, *, levels: np.ndarray | None = None,
                    seed: int = 0) -> dict[int, float]:
    """DeSign levels in batch-norm units measured from data: firing rates of the paper's simulated responses
    (``levels``, default: simulated from ``images`` with ``seed``) matched to ``model``'s batch-norm outputs on
    ``images`` (:func:`dither_lab.design.levels_from_data`)."""
    from dither_lab.design import gray_images, levels_from_data, simulate_responses

    if levels is None:
        levels = simulate_responses(gray_images(images), seed=seed)
    # a chunk of images at a time, keeping only the batch-norm maps, which the quantiles need all of: for 500 CIFAR-10
    # images through ResNet-20 that is 369 MB instead of 737 MB of batch-norm and binary maps at once
    acts = np.concatenate([v["bn"].ravel() for v in _chunked_layer_maps(model, images, dataset)])
    return levels_from_data(levels, acts)


def levels_kernel(levels: Any, table: dict[int, float], *, name: str = "levels, data-scaled") -> Kernel:
    """A kernel of DeSign levels (``[[1, 1], [0, 3]]``) mapped to batch-norm units through ``table``."""
    return Kernel(levels_to_bn(levels, table), spec="custom", domain="bn", name=name)


def run_kernel_study(model: Any, test: Dataset, *, train: Dataset | None = None, metric_images: int = 8,
                    learn_steps: int = 200, seed: int = 0,
                    progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every study kernel swapped into all binary layers of ``model``: test accuracy and feature-map detail.

    Adds the paper's 2x2 kernel with levels scaled from this model's data (:func:`measured_levels`); the learned
    kernel is fitted on ``train`` (``learn_steps`` steps from the paper's 2x2, other weights frozen) and skipped
    without it. Returns one row per kernel: key, label, spec, accuracy and the :data:`METRIC_KEYS`.
    """
    from dither_lab.kernels import format_values
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.learned import learn_kernel

    images = np.asarray(test.images[:metric_images])
    jobs: list[tuple[str, str, Any]] = [("trained", "trained kernels (as shipped)", None)]
    for k in STUDY_KERNELS:
        if k.spec is not None:
            jobs.append((k.key, k.label, k.spec))
        elif train is not None:
            _, learned, _ = learn_kernel(model, train, init="preset:design-2x2-a", steps=learn_steps, seed=seed)
            values = next(iter(learned.values())).values
            jobs.append((k.key, k.label, "custom:" + format_values(values)))
    table = measured_levels(model, np.asarray(test.images[:500]), test.name)
    scaled = levels_kernel(PRESETS["design-2x2-a"], table)
    jobs.append(("design-2x2-a-scaled", "DeSign 2x2 [[1,1],[0,3]], levels scaled from data",
                 "custom:" + format_values(scaled.values)))
    rows = []
    for key, label, spec in jobs:
        acc = evaluate(model, test, kernel=spec)["accuracy"]
        detail = feature_map_metrics(model, images, test.name, spec)
        rows.append({"key": key, "label": label, "spec": spec or "trained", "accuracy": acc, **detail})
        if progress is not None:
            progress(f"{label}: {100 * acc:.2f}%")
    return rows


# ------------------------------------------------------------------------------------------------ results

def results_dir() -> Path:
    """Where the study's results are shipped: the package's assets (``study/``), written by the study scripts in
    a checkout of the project."""
    from dither_lab.io import ASSETS_DIR

    return ASSETS_DIR / "study"


def load_results(kind: str, dataset: str, *, folder: Path | None = None) -> dict[str, Any] | None:
    """A results file: ``kind`` is ``kernel_study`` (scripts/kernel_study.py) or ``campaign_<tag>``
    (scripts/campaign.py). None when the file is absent; ValueError when it is not valid JSON."""
    path = (folder or results_dir()) / f"{kind}_{dataset}.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc}); regenerate it with the script that made it (docs/studies.md)") from None


def campaigns(dataset: str, *, folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every campaign results file of ``dataset`` (``campaign_<tag>_<dataset>.json``, written by
    ``scripts/campaign.py collect --tag``), by tag, the longest schedule first. ValueError names a broken file."""
    found = {}
    for path in sorted((folder or results_dir()).glob(f"campaign_*_{dataset}.json")):
        tag = path.name[len("campaign_"): -len(f"_{dataset}.json")]
        found[tag] = load_results(f"campaign_{tag}", dataset, folder=folder)
    return dict(sorted(found.items(), key=lambda kv: -max((r["epochs"] for r in kv[1]["runs"]), default=0)))


def shipped_accuracy(dataset: str) -> dict[str, tuple[int, float]]:
    """``{activation: (epochs, test accuracy)}`` of the shipped models of ``dataset``, from their cards (what a
    campaign's runs are matched against to say which of them were shipped)."""
    from dither_lab.io import ASSETS_DIR
    from dither_lab.nn.models import PRETRAINED

    out = {}
    for rel, ds in PRETRAINED.values():
        card = ASSETS_DIR / rel.replace(".safetensors", ".card.json")
        if ds == dataset and card.is_file():
            c = json.loads(card.read_text())
            out[c["model"]["activation"]] = (c["epochs_done"], c["test_accuracy"])
    return out


def first_study_rows(dataset: str, *, folder: Path | None = None) -> list[dict[str, Any]]:
    """:func:`first_study` of every campaign of ``dataset``, each row with its ``campaign`` tag and ``shipped``
    (True where it is the run whose weights are in assets/: matched to the shipped models' cards); the shipped
    models' campaign first, the others as :func:`campaigns` orders them."""
    shipped = shipped_accuracy(dataset)
    rows = [{"campaign": tag, **r, "shipped": r["affine"] and r["seeds"] == 1
             and shipped.get(r["activation"]) == (r["epochs"][0], r["mean"])}
            for tag, camp in campaigns(dataset, folder=folder).items() for r in first_study(camp)]
    shipping = {r["campaign"] for r in rows if r["shipped"]}
    return sorted(rows, key=lambda r: r["campaign"] not in shipping)  # stable: the rest keep their order


def first_study(campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """Sign against DeSign in a campaign's results: mean and sample standard deviation of test accuracy over seeds,
    per activation and batch-norm setting (runs of the ship and study groups)."""
    groups: dict[tuple[bool, bool], list[dict[str, Any]]] = {}  # (no scale/shift, DeSign) -> runs
    for r in campaign["runs"]:
        if r["group"] in ("ship", "study") and r["activation"] in ("sign", "design"):
            groups.setdefault((not r["affine"], r["activation"] != "sign"), []).append(r)
    rows = []
    for (no_affine, is_design), runs in sorted(groups.items()):
        accs = [r["test_accuracy"] for r in runs]
        rows.append({"activation": "design" if is_design else "sign", "affine": not no_affine, "seeds": len(accs),
                     "unit": runs[0].get("unit"),
                     "epochs": sorted({r["epochs"] for r in runs}), "mean": statistics.mean(accs),
                     "stdev": statistics.stdev(accs) if len(accs) > 1 else 0.0, "runs": accs})
    return rows


def kernel_runs(campaign: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The campaign's runs trained with each study kernel (seed 0, batch-norm scale and shift on), by kernel key:
    ``{key: {"accuracy": ..., "epochs": ...}}``."""
    by_activation = {r["activation"]: r for r in campaign["runs"] if r["affine"] and r["seed"] == 0}
    return {k.key: {"accuracy": by_activation[k.activation]["test_accuracy"], "epochs": by_activation[k.activation]["epochs"]}
            for k in STUDY_KERNELS if k.activation in by_activation}


def trained_with(dataset: str) -> dict[str, dict[str, Any]]:
    """Accuracy of networks trained with each study kernel, by kernel spec, from the saved comparison:
    ``{spec: {"accuracy": ..., "epochs": ...}}`` (empty when there are no results)."""
    comp = load_results("kernel_study", dataset)
    if comp is None:
        return {}
    return {r["spec_on_design_model"]: r["trained_with"] for r in comp["rows"]
            if r["trained_with"] and r["key"] != "learned"}


def _all(n: int) -> str:
    return {1: "the one comparison", 2: "both"}.get(n, f"all {n}")


#: Test images behind every campaign accuracy (the full test sets of Fashion-MNIST and CIFAR-10).
TEST_IMAGES = 10_000


def finding(dataset: str, *, folder: Path | None = None) -> dict[str, Any]:
    """Where DeSign helped and where it did not: every Sign/DeSign pair of the campaigns of ``dataset`` (same
    campaign, unit and batch-norm setting), the difference and the band chance alone gives it, and a sentence.

    The band is two standard deviations of the difference from chance. Every run is measured on the same test
    set, so where a campaign ran several seeds the chance is the seed-to-seed spread of its means; a pair of
    single-seed runs takes the seed spread measured on the same dataset where one was, else test-set sampling alone
    (binomial on ``TEST_IMAGES`` images, each model on its own: a wide band). The sentence says which.

    Returns:
        ``{"pairs": [{"campaign", "unit", "affine", "epochs", "seeds", "sign", "design", "difference", "band",
        "beyond_chance"}], "text": str}``; accuracies and differences in points (percent).
    """
    rows = first_study_rows(dataset, folder=folder)
    by = {}
    for r in rows:
        by.setdefault((r["campaign"], r["unit"], r["affine"]), {})[r["activation"]] = r
    seed_sds = [r["stdev"] for r in rows if r["seeds"] > 1]
    seed_sd = statistics.mean(seed_sds) if seed_sds else 0.0
    pairs = []
    for (campaign, unit, affine), two in by.items():
        if set(two) != {"sign", "design"}:
            continue
        s, d = two["sign"], two["design"]
        n = min(s["seeds"], d["seeds"])
        if n > 1:
            var = (s["stdev"] ** 2 + d["stdev"] ** 2) / n
        elif seed_sd:
            var = 2 * seed_sd**2
        else:
            var = sum(r["mean"] * (1 - r["mean"]) / TEST_IMAGES for r in (s, d))
        diff, band = 100 * (d["mean"] - s["mean"]), 200 * var**0.5
        pairs.append({"campaign": campaign, "unit": unit or "plain", "affine": affine, "epochs": s["epochs"][0],
                      "seeds": n, "sign": 100 * s["mean"], "design": 100 * d["mean"], "difference": diff,
                      "band": band, "beyond_chance": abs(diff) > band})

    def part(affine: bool) -> str:
        ps = [p for p in pairs if p["affine"] == affine]
        if not ps:
            return ""
        lo, hi = min(p["difference"] for p in ps), max(p["difference"] for p in ps)
        ahead = [p for p in ps if p["difference"] > 0 and p["beyond_chance"]]
        behind = [p for p in ps if p["difference"] < 0 and p["beyond_chance"]]
        setting = "With learnable batch-norm scale and shift" if affine else "Without them"
        span = f"{lo:+.2f}" if len(ps) == 1 else f"{lo:+.2f} to {hi:+.2f}"
        if len(ahead) == len(ps):
            verdict = f"DeSign is ahead in {'the' if len(ps) == 1 else 'every'} comparison, beyond chance ({span} points)"
        elif not ahead and not behind:
            verdict = f"DeSign and Sign are level: {span} points, within chance in {_all(len(ps))}"
        else:
            verdict = (f"{span} points over {len(ps)} comparisons: DeSign ahead beyond chance in {len(ahead)}, "
                       f"behind in {len(behind)}, level in {len(ps) - len(ahead) - len(behind)}")
        return f"{setting}, {verdict}."

    text = " ".join(p for p in (part(True), part(False)) if p)
    if any(p["affine"] for p in pairs) and any(not p["affine"] for p in pairs):
        text += (" Batch norm's learned shift moves each channel against its threshold, which is what a kernel's "
                 "thresholds do too; the paper reports DeSign as less sensitive to those parameters.")
    if any(p["seeds"] == 1 for p in pairs):
        text += (" Chance (± two standard deviations of the difference) comes from each campaign's own "
                 "seed-to-seed spread where it ran several seeds, else from the spread measured on this dataset "
                 f"({100 * seed_sd:.2f} points a run)."
                 if seed_sd else " Chance: each run is one seed, so the band covers test-set sampling only (no "
                 "seed spread was measured on this dataset).")
    return {"pairs": pairs, "text": text}


def finding_rows(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """:func:`finding`'s pairs as table rows: the campaign (and ResNet-20 unit where the pairs differ in it), the
    batch-norm setting, DeSign's difference, the chance band and whether the difference is beyond it first, then
    each accuracy (better higher, the headers say so), epochs and seeds."""
    units = {p["unit"] for p in pairs}
    rows = []
    for p in pairs:
        row: dict[str, Any] = {"campaign": p["campaign"]}
        if len(units) > 1:
            row["unit"] = p["unit"]
        verdict = ("no" if not p["beyond_chance"] else "yes, DeSign ahead" if p["difference"] > 0
                   else "yes, Sign ahead")
        row |= {"BN scale/shift": "learnable" if p["affine"] else "off",
                "DeSign − Sign (points)": round(p["difference"], 2), "chance ± (points)": round(p["band"], 2),
                "beyond chance": verdict, "Sign (%) ↑": round(p["sign"], 2), "DeSign (%) ↑": round(p["design"], 2),
                "epochs": p["epochs"], "seeds": p["seeds"]}
        rows.append(row)
    return rows


def swap_lesson(dataset: str, *, folder: Path | None = None) -> dict[str, Any] | None:
    """What swapping kernels into the shipped models shows, from the saved comparison (:func:`load_results`):
    the DeSign model with its own kernel and with Sign swapped in, the Sign model with the paper's kernel swapped
    in, and networks trained with each; with a sentence. None when there is no comparison for ``dataset``.

    Returns:
        ``{"design_own", "design_with_sign", "sign_own", "sign_with_design", "trained_sign", "trained_design",
        "epochs", "test_images", "text"}`` (accuracies as fractions; trained-with and epochs None where unmeasured).
    """
    comp = load_results("kernel_study", dataset, folder=folder)
    if comp is None:
        return None
    by = {r["key"]: r for r in comp["rows"]}
    if not {"trained", "sign", "design-2x2-a"} <= set(by):
        return None
    own, sign, paper = by["trained"], by["sign"], by["design-2x2-a"]
    out = {"design_own": own["swapped_into_design_model"], "design_with_sign": sign["swapped_into_design_model"],
           "sign_own": own["swapped_into_sign_model"], "sign_with_design": paper["swapped_into_sign_model"],
           "trained_sign": (sign["trained_with"] or {}).get("accuracy"),
           "trained_design": (paper["trained_with"] or {}).get("accuracy"),
           "epochs": (paper["trained_with"] or sign["trained_with"] or {}).get("epochs"),
           "test_images": comp["test_images"]}
    fall = out["design_own"] - out["design_with_sign"]
    text = (f"On {out['test_images']:,} test images the model trained with DeSign classifies {out['design_own']:.2%} "
            f"right with its own kernel and {out['design_with_sign']:.2%} with Sign swapped in"
            + (": the network relies on its dithered thresholds" if fall >= 0.05 else
               ": its dithered thresholds make little difference to it" if abs(fall) < 0.05 else "")
            + f". The other way round, the model trained with Sign falls from {out['sign_own']:.2%} to "
            f"{out['sign_with_design']:.2%} with the paper's kernel swapped in: weights are learned for the thresholds "
            "they were trained with, so a swap measures that reliance, not the kernel.")
    if out["trained_sign"] is not None and out["trained_design"] is not None:
        text += (f" Trained with each (the kernel study's {out['epochs']}-epoch runs), Sign reached "
                 f"{out['trained_sign']:.2%} and the paper's kernel {out['trained_design']:.2%}.")
    out["text"] = text
    return out


def kernel_rows(comp: dict[str, Any], *, names: dict[str, str] | None = None) -> dict[str, Any]:
    """The saved comparison of every kernel (:func:`load_results` ``"kernel_study"``) as a table: per kernel its
    accuracy swapped into the shipped Sign and DeSign models, trained with it (a shorter run: its epochs in the
    header where they agree) and the detail it keeps in the DeSign model's feature maps, each header saying which
    way is better.

    Args:
        comp: the comparison.
        names: a name for a kernel's spec (the app's kernel library), used in place of the study's label.

    Returns:
        ``{"rows": [...], "better": {column: direction}, "help": {column: text}, "parts": {part: columns}}``:
        ``parts`` splits the columns in two tables that each fit a page, the accuracies and the feature-map
        metrics, each led by the kernel.
    """
    names = names or {}
    rows_in = comp["rows"]
    epochs = sorted({r["trained_with"]["epochs"] for r in rows_in if r["trained_with"]})
    trained = trained_with_header(epochs)

    rows = []
    for r in rows_in:
        fm = r["feature_maps_design_model"]
        row = {"kernel": names.get(r["spec_on_design_model"], r["label"]),
               "Sign model (%) ↑": percent(r["swapped_into_sign_model"]),
               "DeSign model (%) ↑": percent(r["swapped_into_design_model"]),
               trained: percent(r["trained_with"]["accuracy"]) if r["trained_with"] else None}
        if len(epochs) > 1:
            row["epochs"] = r["trained_with"]["epochs"] if r["trained_with"] else None
        rows.append(row | {"PSNR (dB) ↑": round(fm["psnr"], 2), "SSIM ↑": round(fm["ssim"], 3),
                           "TV ratio → 1": round(fm["tv_ratio"], 2)})
    help = {
        "kernel": "The app's name for the kernel where its library holds it, else the study's.",
        "Sign model (%) ↑": "Test accuracy of the shipped Sign model with this kernel swapped into every binary layer",
        "DeSign model (%) ↑": "Test accuracy of the shipped DeSign model with this kernel swapped into every binary "
                              "layer",
        trained: "Test accuracy of a network trained with this kernel: a shorter run than the shipped models'",
        "PSNR (dB) ↑": "Feature maps of the DeSign model: PSNR of the binary map against its batch-norm input, pixel "
                       "by pixel (it penalizes any binary texture, so it favours Sign)",
        "SSIM ↑": "Feature maps of the DeSign model: SSIM of the binary map against its batch-norm input (like PSNR, "
                  "it penalizes binary texture)",
        "TV ratio → 1": "Feature maps of the DeSign model: total variation of the binary map over its input's (1: as "
                        "much variation as the input)"}
    better = {"Sign model (%) ↑": "higher", "DeSign model (%) ↑": "higher", trained: "higher", "PSNR (dB) ↑": "higher",
              "SSIM ↑": "higher", "TV ratio → 1": "near 1"}
    maps = ["PSNR (dB) ↑", "SSIM ↑", "TV ratio → 1"]  # the feature-map columns, in a table of their own
    parts = {"accuracy": [c for c in rows[0] if c not in maps] if rows else [], "feature maps": ["kernel", *maps]}
    return {"rows": rows, "better": better, "help": help, "parts": parts}


def kernel_takeaway(comp: dict[str, Any], *, names: dict[str, str] | None = None) -> str:
    """What the comparison of every kernel shows, in two sentences computed from it: how far apart networks
    trained with each kernel land, and what swapping a kernel into a model trained with another does."""
    names = names or {}
    rows = {r["key"]: r for r in comp["rows"]}

    def name(r: dict[str, Any]) -> str:
        return names.get(r["spec_on_design_model"], r["label"])

    parts = []
    trained = [r for r in comp["rows"] if r["trained_with"]]
    if len(trained) > 1:
        lo = min(trained, key=lambda r: r["trained_with"]["accuracy"])
        hi = max(trained, key=lambda r: r["trained_with"]["accuracy"])
        epochs = sorted({r["trained_with"]["epochs"] for r in trained})
        runs = f"{epochs[0]}-epoch runs" if len(epochs) == 1 else "shorter runs"
        if len(trained) == 2:
            parts.append(f"Trained with it ({runs}, one each), {name(lo)} reached {lo['trained_with']['accuracy']:.2%} "
                         f"and {name(hi)} {hi['trained_with']['accuracy']:.2%}.")
        else:
            parts.append(f"Trained with it ({runs}, one each), the {len(trained)} kernels land between "
                         f"{lo['trained_with']['accuracy']:.2%} ({name(lo)}) and {hi['trained_with']['accuracy']:.2%} "
                         f"({name(hi)}).")
    fixed = [r for r in comp["rows"] if r["key"] not in ("trained", "sign", "learned") and not r["key"].endswith("-scaled")]
    if "trained" in rows and fixed:
        own = rows["trained"]["swapped_into_sign_model"]
        into = [r["swapped_into_sign_model"] for r in fixed]
        parts.append(f"Swapped at test time into the Sign model ({own:.2%} with its own threshold), the study's "
                     f"{len(fixed)} fixed kernels (every row but the trained, Sign, learned and data-scaled ones) "
                     f"score {min(into):.2%} to {max(into):.2%}: a swap measures how much a "
                     "network relies on the thresholds it was trained with, not which kernel is better.")
    return " ".join(parts)


def run_rows(rows: list[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    """:func:`first_study_rows` as a table: one row a campaign's Sign or DeSign runs (accuracy in percent, higher
    is better; the seed-to-seed spread where any campaign ran several seeds; which run was shipped)."""
    several_seeds = any(r["seeds"] > 1 for r in rows)  # else no spread to show
    out = []
    for r in rows:
        row: dict[str, Any] = {"campaign": r["campaign"]}
        if dataset == "cifar10":
            row["ResNet-20 unit"] = r["unit"] or "plain"
        row |= {"activation": "DeSign 2x2" if r["activation"] == "design" else "Sign",
                "BN scale/shift": "learnable" if r["affine"] else "off", "epochs": r["epochs"][0],
                "seeds": r["seeds"], "test accuracy (%) ↑": percent(r["mean"])}
        if several_seeds:
            row["spread (sd, points)"] = percent(r["stdev"]) if r["seeds"] > 1 else None
        out.append(row | {"shipped": "yes" if r["shipped"] else ""})
    return out
