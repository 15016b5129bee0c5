"""Command-line interface: ``python -m dither_lab`` or ``dither-lab``.

Errors print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np


class CliError(Exception):
    """A user mistake reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        raise CliError(f"{self.prog}: {message}")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _print_json(obj: Any) -> None:
    print(json.dumps(_jsonable(obj), indent=2))


def _print_table(rows: dict[str, dict[str, Any]]) -> None:
    keys = ["psnr", "ssim", "csf_psnr", "tv_ratio", "density", "tone_error"]
    print(f"{'output':<28}" + "".join(f"{k:>11}" for k in keys))
    for name, m in rows.items():
        print(f"{name[:27]:<28}" + "".join(f"{m[k]:>11.4f}" for k in keys))


# ------------------------------------------------------------------------------------------------- commands


def _cmd_kernel_make(a: argparse.Namespace) -> None:
    from dither_lab.io import save_kernel
    from dither_lab.kernels import make_kernel

    k = make_kernel(a.spec, domain=a.domain)
    path = save_kernel(k, a.out, force=a.force)
    print(f"wrote {path} ({k.name}, shape {list(k.shape)}, {a.domain} units)")


def _cmd_kernel_convert(a: argparse.Namespace) -> None:
    from dither_lab.io import load_kernel, save_kernel

    path = save_kernel(load_kernel(a.input, domain=a.domain), a.out, force=a.force)
    print(f"wrote {path}")


def _cmd_kernel_show(a: argparse.Namespace) -> None:
    from dither_lab.io import load_kernel

    _print_json(load_kernel(a.file, domain=a.domain).summary())


def _cmd_dither(a: argparse.Namespace) -> None:
    from dither_lab.dither import error_diffusion, ordered_dither
    from dither_lab.io import load_image, save_image
    from dither_lab.kernels import make_kernel
    from dither_lab.metrics import detail_metrics

    if Path(a.out).exists() and not a.force:
        raise CliError(f"{a.out} already exists; pass --force to overwrite it")
    img = load_image(a.image, mode=a.mode)
    if a.kernel.startswith("diffusion:"):
        out = error_diffusion(img, method=a.kernel.partition(":")[2], serpentine=True)
        label = a.kernel
    else:
        k = make_kernel(a.kernel, domain="unit")
        out = ordered_dither(img, k)
        label = k.spec
    sign = ordered_dither(img, make_kernel("sign", domain="unit"))
    save_image(out, a.out, force=a.force)
    rows = {"sign": detail_metrics(img, sign), label: detail_metrics(img, out)}
    if a.json:
        _print_json({"image": str(a.image), "out": str(a.out), "shape": list(img.shape), "metrics": rows})
    else:
        print(f"wrote {a.out}")
        _print_table(rows)


def _cmd_metrics(a: argparse.Namespace) -> None:
    from dither_lab.io import load_image
    from dither_lab.metrics import detail_metrics

    ref = load_image(a.ref, mode=a.mode)
    test = load_image(a.test, mode=a.mode)
    if ref.shape != test.shape:
        raise CliError(f"{a.ref} and {a.test} differ in size: {list(ref.shape)} and {list(test.shape)}")
    m = detail_metrics(ref, test)
    if a.json:
        _print_json(m)
    else:
        _print_table({Path(a.test).name: m})


def _cmd_bench(a: argparse.Namespace) -> None:
    from dither_lab.bench import run

    res = run(quick=a.quick)
    if a.json:
        _print_json(res)
    else:
        for k, v in res.items():
            if k != "machine":
                print(f"{k:<40} {v if not isinstance(v, float) else f'{v:.4g}'}")


def _load_eval_model(name: str, cmd: str = "evaluate") -> tuple[Any, str]:
    from dither_lab.models import PRETRAINED, load_model, load_pretrained

    if name in PRETRAINED:
        model, meta = load_pretrained(name)
        return model, meta["dataset"]
    if Path(name).suffix == ".safetensors":
        model, meta = load_model(name)
        card = meta.get("card") or {}
        dataset = card.get("dataset") or ("fashion-mnist" if model.config["in_channels"] == 1 else "cifar10")
        return model, dataset
    raise CliError(f"dither-lab {cmd}: --model must be one of {', '.join(PRETRAINED)} or a .safetensors file, got {name!r}")


def _layers(text: str, has_kernel: bool, cmd: str) -> list[int | str] | None:
    """``--layers``: 'all' (None) or a comma list of binary-layer indices or names; it needs a kernel to place."""
    if text == "all":
        return None
    if not has_kernel:
        raise CliError(f"dither-lab {cmd}: --layers says where --kernel goes; give --kernel too")
    items = [v.strip() for v in text.split(",")]
    if not all(items):
        raise CliError(f"dither-lab {cmd}: --layers must be 'all' or a comma list, got {text!r}")
    return [int(v) if v.lstrip("-").isdigit() else v for v in items]


def _cmd_cost(a: argparse.Namespace) -> None:
    from dither_lab.cost import inference_time, kernel_cost, tables_cost
    from dither_lab.models import model_nbytes

    if (a.model is None) == (a.arch is None):
        raise CliError("dither-lab cost: give --model (a trained network) or --arch (an untrained one), not both")
    if a.arch:
        from dither_lab.models import build_model
        from dither_lab.train import SHIPPED_MODELS

        # the input of the dataset it is made for: the one whose shipped model it is, else CIFAR-10
        dataset = a.dataset or next((d for d, m in SHIPPED_MODELS.items() if m["arch"] == a.arch), "cifar10")
        shape = SHIPPED_MODELS[dataset]
        model = build_model(a.arch, in_channels=shape["in_channels"], image_size=shape["image_size"], width=a.width)
        name = f"{a.arch} (untrained, width {a.width:g}, {dataset} input)"
    elif a.dataset:
        raise CliError("dither-lab cost: --dataset sets the input of --arch; a trained --model has its own")
    else:
        model, _ = _load_eval_model(a.model, "cost")
        name = a.model
    kernels = a.kernel or ["trained"]
    layers = _layers(a.layers, kernels != ["trained"], "cost")
    if a.tables and len(kernels) > 1:
        raise CliError("dither-lab cost: --tables writes the thresholds of one kernel; give one --kernel")
    if a.tables:
        from dither_lab.cost import threshold_tables
        from dither_lab.io import save_tensors

        spec = kernels[0]
        tables = threshold_tables(model, None if spec == "trained" else spec, layers=layers)
        tensors = {f"{n}.{k}": t[k] for n, t in tables.items() for k in ("theta", "high")}
        meta = {"model": name, "kernel": spec, "layers": {n: {"shape": list(t["shape"]), "kernel": t["kernel"]}
                                                             for n, t in tables.items()},
                "rule": "out[c, i, j] = high[c] if x[c, i, j] >= theta[c, i mod m, j mod n] else -high[c]"}
        path = save_tensors(tensors, a.tables, metadata=meta, force=a.force)
        print(f"wrote {path} ({sum(t['theta'].numel() for t in tables.values()):,} thresholds in {len(tables)} layers)",
              file=sys.stderr if a.json else sys.stdout)  # --json keeps stdout one JSON document
    out = []
    for spec in kernels:
        kernel = None if spec == "trained" else spec
        if a.tables:  # the tables just written are the ones to count
            res = {"kernel": spec, **tables_cost(tables, model_nbytes(model)["total"])}
        else:
            res = {"kernel": spec, **kernel_cost(model, kernel, layers=layers)}
        if a.time:
            res["time"] = inference_time(model, kernel, layers=layers)
        out.append(res)
    if a.json:
        _print_json({"model": name, "kernels": out})
        return
    print(f"{name}: thresholds stored after folding batch norm (Sign: one per channel), compares per image, "
          f"extra bytes at float32 against Sign (model {out[0]['model_bytes']:,} bytes)")
    head = f"{'kernel':<28}{'thresholds':>12}{'Sign':>8}{'compares':>11}{'extra MACs':>12}{'extra bytes':>13}{'of model':>10}"
    print(head + (f"{'time / Sign':>13}" if a.time else ""))
    for r in out:
        line = (f"{r['kernel'][:27]:<28}{r['thresholds']:>12,}{r['sign_thresholds']:>8,}{r['compares']:>11,}"
                f"{r['extra_macs']:>12}{r['extra_bytes']:>13,}{r['extra_share']:>10.1%}")
        print(line + (f"{r['time']['ratio']:>12.2f}x" if a.time else ""))


def _test_images(dataset: str, path: str | None, *, full: bool = False) -> Any:
    """The test images a command measures on: the embedded Fashion-MNIST subset unless a path or the full test set
    is asked for (CIFAR-10 always reads its test set from the data folder or ``path``)."""
    from dither_lab.data import embedded_subset, load_dataset

    if full or path or dataset != "fashion-mnist":
        return load_dataset(dataset, "test", path=path)
    return embedded_subset()


def _cmd_evaluate(a: argparse.Namespace) -> None:
    from dither_lab.data import balanced_subset
    from dither_lab.evaluate import evaluate

    model, dataset = _load_eval_model(a.model)
    count = a.count
    data = _test_images(dataset, a.data, full=a.full)
    if data.split == "test" and count is not None:  # files may be sorted by class: take each class alike
        data, count = balanced_subset(data, count), None  # (the embedded subset is mixed already: its first N)
    kernel = None if a.kernel == "trained" else a.kernel
    layers = _layers(a.layers, kernel is not None, "evaluate")
    if a.sweep is not None:
        _sweep(a, model, data, kernel, layers, count)
        return
    res = evaluate(model, data, kernel=kernel, layers=layers, count=count)
    res["model"] = a.model
    res["data"] = f"{data.name} {data.split}"
    if a.json:
        _print_json(res)
    else:
        which = "its trained kernels" if kernel is None else f"kernel {a.kernel}"
        print(f"{a.model} on {res['data']} ({res['count']} images), {which}: accuracy {res['accuracy']:.4f}")
        counts = np.asarray(res["confusion"]).sum(1)
        for cls, acc, n in zip(res["classes"], res["per_class"].values(), counts, strict=True):
            print(f"  {cls:<14}{acc:>8.4f}  ({n} images)")


def _cmd_maps(a: argparse.Namespace) -> None:
    from dither_lab.compare import layer_mosaic, layer_summary
    from dither_lab.data import prepare_image
    from dither_lab.evaluate import layer_maps
    from dither_lab.io import load_image, save_image
    from dither_lab.models import resolve_layers

    model, dataset = _load_eval_model(a.model, "maps")
    if a.out is not None and Path(a.out).exists() and not a.force:
        raise CliError(f"{a.out} already exists; pass --force to overwrite it")
    if a.image is not None and a.index is not None:
        raise CliError("dither-lab maps: give --image or --index, not both")
    if a.image is not None:
        image = prepare_image(load_image(a.image, mode="gray" if dataset == "fashion-mnist" else "rgb"), dataset)
        source = str(a.image)
    else:
        index = a.index or 0
        data = _test_images(dataset, a.data)
        if not 0 <= index < len(data):
            raise CliError(f"dither-lab maps: --index must be in 0..{len(data) - 1}, got {index}")
        image = np.asarray(data.images[index : index + 1])
        source = f"{data.name} {data.split} image {index} ({data.classes[int(data.labels[index])]})"
    if a.out is not None and a.layer is None:
        raise CliError("dither-lab maps: --out draws one layer's channels; say which with --layer")
    # one layer as --layers names them: a 0-based index or a name
    layer = None if a.layer is None else resolve_layers(model, _layers(a.layer, True, "maps"))[0]
    maps = layer_maps(model, image, dataset)  # the network running with its trained kernels
    rows = layer_summary({n: m["bn"][0] for n, m in maps.items()}, a.kernel)
    if a.out is not None:
        shown = layer_mosaic(maps[layer]["bn"][0], a.kernel)["shown"]
        gap = np.ones((shown["real"].shape[0], 4), dtype=np.float32)  # white between the three montages
        save_image(np.hstack([shown["real"], gap, shown["Sign"], gap, shown["dithered"]]), a.out, force=a.force)
    if a.json:
        _print_json({"model": a.model, "input": source, "kernel": a.kernel, "layers": rows,
                     **({"out": str(a.out)} if a.out else {})})
        return
    print(f"{a.model} on {source}: each binary layer's batch-norm output binarized by Sign and by {a.kernel}")
    print(f"{'layer':<28}{'maps':>14}{'+1s Sign':>10}{'+1s kernel':>12}{'flipped':>9}")
    for i, r in enumerate(rows):
        shape = f"{r['channels']}x{r['height']}x{r['width']}"
        print(f"{f'{i}: ' + r['layer']:<28}{shape:>14}{r['sign_ones']:>10.1%}{r['dithered_ones']:>12.1%}"
              f"{r['differs']:>9.1%}")
    if a.out is not None:
        print(f"wrote {a.out} (layer {layer}: batch-norm output on -3..3, Sign, {a.kernel})")


def _sweep(a: argparse.Namespace, model: Any, data: Any, kernel: str | None, layers: Any, count: int | None) -> None:
    from dither_lab.evaluate import SWEEP_STRENGTHS, evaluate, strength_sweep

    if kernel is None:
        raise CliError("dither-lab evaluate: --sweep scales a kernel; give it with --kernel SPEC")
    try:
        strengths = [float(v) for v in a.sweep.split(",")] if a.sweep else list(SWEEP_STRENGTHS)
    except ValueError:
        raise CliError(f"dither-lab evaluate: --sweep takes comma-separated numbers, got {a.sweep!r}") from None
    rows = strength_sweep(model, data, kernel, strengths, layers=layers, count=count)
    trained = evaluate(model, data, count=count)["accuracy"]
    if a.json:
        _print_json({"model": a.model, "data": f"{data.name} {data.split}", "kernel": kernel, "layers": a.layers,
                     "count": min(count or len(data), len(data)), "trained_accuracy": trained, "sweep": rows})
        return
    print(f"{a.model}: {kernel} with its thresholds scaled (0 = Sign), on {data.name} {data.split}; "
          f"trained kernels {trained:.4f}")
    for r in rows:
        print(f"  strength {r['strength']:>5g}  accuracy {r['accuracy']:.4f}")


def _cmd_train(a: argparse.Namespace) -> None:
    from dither_lab.data import balanced_subset, load_dataset
    from dither_lab.models import build_model
    from dither_lab.train import CROP_PADDING, SHIPPED_MODELS, Recipe, RunConfig, train

    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    cin, size = SHIPPED_MODELS[a.dataset]["in_channels"], SHIPPED_MODELS[a.dataset]["image_size"]
    recipe = Recipe(epochs=a.epochs, batch_size=a.batch_size, optimizer=a.optimizer, lr=a.lr, seed=a.seed,
                    weight_decay=a.weight_decay, label_smoothing=a.label_smoothing,
                    crop_padding=CROP_PADDING[a.dataset])
    model = {"arch": a.arch, "in_channels": cin, "image_size": size, "width": a.width, "activation": a.activation,
             "affine": not a.no_affine, "scale_by_gamma": a.scale_by_gamma}
    if a.unit != "plain":
        model["unit"] = a.unit
    if a.kernel:
        model["kernel"] = a.kernel
    run = RunConfig(model=model, dataset=a.dataset, recipe=recipe)
    build_model(**model)  # a configuration error is reported before the data are read
    tr, te = load_dataset(a.dataset, "train", path=a.data), load_dataset(a.dataset, "test", path=a.data)
    if a.limit:
        tr, te = balanced_subset(tr, a.limit, seed=a.seed), balanced_subset(te, a.limit, seed=a.seed)
    card = train(run, tr, te, a.out, resume=a.resume, device=a.device, export=a.export,
                 cuda_graph=not a.no_cuda_graph, compile=a.compile)
    if a.json:
        _print_json(card)
    else:
        print(f"test accuracy {card['test_accuracy']:.4f} after {card['epochs_done']} epochs; card in {a.out}/card.json")


def _cmd_data_download(a: argparse.Namespace) -> None:
    from dither_lab.data import CIFAR10_MD5, CIFAR10_URL, download_cifar10

    out = download_cifar10(a.dest, url=a.url or CIFAR10_URL, md5=a.md5 or CIFAR10_MD5)
    print(f"CIFAR-10 is ready in {out}")


def _design_images(source: str, count: int, data_path: str | None) -> Any:
    from dither_lab.data import balanced_subset, embedded_subset, load_dataset
    from dither_lab.design import gray_images
    from dither_lab.io import load_image

    if source == "subset":
        return gray_images(embedded_subset().images[:count])
    if source in ("fashion-mnist", "cifar10"):
        # files may be sorted by class: take each class alike
        return gray_images(balanced_subset(load_dataset(source, "test", path=data_path), count).images)
    folder = Path(source)
    if not folder.is_dir():
        raise CliError(f"dither-lab design: --images must be subset, fashion-mnist, cifar10 or a folder, got {source!r}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"))[:count]
    if not files:
        raise CliError(f"dither-lab design: no images in {folder}")
    imgs = [load_image(f) for f in files]
    h = min(i.shape[0] for i in imgs)
    w = min(i.shape[1] for i in imgs)
    return np.stack([i[:h, :w] for i in imgs])


def _cmd_design(a: argparse.Namespace) -> None:
    from dither_lab.design import MAX_LOCAL_SIDE, local_search, search, search_3d, simulate_responses, tiled_start

    try:
        m, n = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        raise CliError(f"dither-lab design: --size must be like 2x2 or 3x3, got {a.size!r}") from None
    if min(m, n) < 1 or max(m, n) > MAX_LOCAL_SIDE:
        raise CliError(f"dither-lab design: kernel sides must be 1..{MAX_LOCAL_SIDE}, got {a.size!r}")
    if m * n > 9 and a.method != "local":
        raise CliError("dither-lab design: exhaustive search covers kernels up to 3x3 (6^9 candidates); "
                       "use --method local for larger kernels")
    images = _design_images(a.images, a.count, a.data)
    levels = simulate_responses(images, seed=a.seed)
    if a.slices:
        res = search_3d(images, a.slices, m, n, a.objective, seed=a.seed, method="local" if a.method == "local" else "auto",
                        **({"restarts": a.restarts} if a.method == "local" else {}))
    elif a.method == "local":
        res = local_search(levels, m, n, a.objective, restarts=a.restarts, seed=a.seed,
                           init=tiled_start(levels, m, n, a.objective))
    else:
        res = search(levels, m, n, a.objective, top=a.top, method=a.method)
    if a.scale_from:
        from dither_lab.data import embedded_subset
        from dither_lab.kernels import LEVEL_TO_BN
        from dither_lab.study import measured_levels

        model, dataset = _load_eval_model(a.scale_from)
        if dataset != "fashion-mnist":
            raise CliError("dither-lab design: --scale-from measures on the embedded Fashion-MNIST subset; "
                           "give a Fashion-MNIST model")
        table = measured_levels(model, embedded_subset().images[:500], dataset, levels=levels)
        res["levels_to_bn_from_data"] = {str(k): v for k, v in table.items()}
        res["levels_to_bn_authors"] = {str(k): v for k, v in LEVEL_TO_BN.items()}
    if a.json:
        _print_json(res)
        return
    if a.slices:
        print(f"3-D kernel, {a.slices} slices over {res['channels']} channels, objective {a.objective}, "
              f"{res['seconds']:.2f} s")
        for sl in res["slices"]:
            print(f"  slice {sl['slice']} (channels {sl['channels']}): {sl['levels']}  {sl['score']:.5f}")
    elif a.method == "local":
        print(f"local search {m}x{n}, {len(res['starts'])} starts, {res['evaluations']} evaluations, objective "
              f"{a.objective} ({'max' if res['maximize'] else 'min'}), {res['seconds']:.2f} s")
        print(f"  best {res['best'][0]['levels']}  {res['best'][0]['score']:.5f}")
    else:
        print(f"{res['count']} candidates, {res['images']} images, objective {a.objective} "
              f"({'max' if res['maximize'] else 'min'}), {res['seconds']:.2f} s")
        for e in res["best"]:
            print(f"  rank {e['rank']:>8}  {e['levels']}  {e['score']:.5f}")
        for name, e in res["presets"].items():
            print(f"  {name}: rank {e['rank']} of {res['count']}, score {e['score']:.5f}")
    if "levels_to_bn_from_data" in res:
        print("levels -> batch-norm units, from data:", res["levels_to_bn_from_data"])


def _cmd_learn_kernel(a: argparse.Namespace) -> None:
    from dither_lab.data import balanced_subset, load_dataset
    from dither_lab.evaluate import evaluate
    from dither_lab.io import save_kernel
    from dither_lab.learn import learn_kernel

    if Path(a.out).exists() and not a.force:
        raise CliError(f"{a.out} already exists; pass --force to overwrite it")
    model, dataset = _load_eval_model(a.model)
    train_set = load_dataset(dataset, "train", path=a.data)
    test_set = balanced_subset(load_dataset(dataset, "test", path=a.data), a.count)  # each class alike
    tuned, kernels, losses = learn_kernel(model, train_set, init=a.init, steps=a.steps, lr=a.lr, seed=a.seed,
                                          time_limit=a.time_limit, keep_best=a.keep_best)
    kernel = next(iter(kernels.values()))
    save_kernel(kernel, a.out, force=a.force)
    before = evaluate(model, test_set)["accuracy"]
    after = evaluate(tuned, test_set)["accuracy"]
    res = {"kernel": kernel.values.tolist(), "out": str(a.out), "steps": len(losses), "final_loss": losses[-1],
           "accuracy_trained": before, "accuracy_learned": after, "count": len(test_set)}
    if a.json:
        _print_json(res)
    else:
        print(f"wrote {a.out}; accuracy {before:.4f} -> {after:.4f} on {res['count']} test images")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    from dither_lab.models import ARCHS, UNITS  # the package has imported torch already

    p = _Parser(prog="dither-lab", description="See, design and measure dithered binary activations.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, required=True, metavar="COMMAND",
                           title="commands (dither-lab COMMAND --help for each)")

    kp = sub.add_parser("kernel", help="make, convert and show threshold-kernel files")
    ks = kp.add_subparsers(dest="kernel_command", parser_class=_Parser, required=True)
    km = ks.add_parser("make", help="write a kernel from a spec (e.g. bayer:4, preset:design-2x2-a)")
    km.add_argument("spec")
    km.add_argument("--out", required=True, help="output file: .json, .npy or .mat")
    km.add_argument("--domain", choices=["bn", "unit"], default="bn", help="batch-norm (default) or image units")
    km.add_argument("--force", action="store_true", help="overwrite an existing file")
    km.set_defaults(func=_cmd_kernel_make)
    kc = ks.add_parser("convert", help="convert a kernel file between JSON, .npy and .mat")
    kc.add_argument("input")
    kc.add_argument("--out", required=True)
    kc.add_argument("--domain", choices=["bn", "unit"], default="bn")
    kc.add_argument("--force", action="store_true")
    kc.set_defaults(func=_cmd_kernel_convert)
    kv = ks.add_parser("show", help="print a JSON summary of a kernel file")
    kv.add_argument("file")
    kv.add_argument("--domain", choices=["bn", "unit"], default="bn")
    kv.set_defaults(func=_cmd_kernel_show)

    dp = sub.add_parser("dither", help="dither an image with a kernel and print metrics against Sign")
    dp.add_argument("image")
    dp.add_argument("--kernel", required=True, help="kernel spec in image units, or diffusion:METHOD")
    dp.add_argument("--out", required=True, help="output PNG")
    dp.add_argument("--mode", choices=["gray", "rgb"], default="gray")
    dp.add_argument("--json", action="store_true")
    dp.add_argument("--force", action="store_true")
    dp.set_defaults(func=_cmd_dither)

    mp = sub.add_parser("metrics", help="detail metrics of TEST against REF (images)")
    mp.add_argument("ref")
    mp.add_argument("test")
    mp.add_argument("--mode", choices=["gray", "rgb"], default="gray")
    mp.add_argument("--json", action="store_true")
    mp.set_defaults(func=_cmd_metrics)

    dap = sub.add_parser("data", help="get datasets")
    das = dap.add_subparsers(dest="data_command", parser_class=_Parser, required=True)
    dd = das.add_parser("download", help="download the official CIFAR-10 archive (MD5-checked, resumable)")
    dd.add_argument("dataset", choices=["cifar10"])
    dd.add_argument("--dest", default=None, help="data folder (default: $DITHER_LAB_DATA or ~/.cache/dither_lab)")
    dd.add_argument("--url", default=None, help="a mirror of the official archive")
    dd.add_argument("--md5", default=None, help="expected MD5 (default: the official archive's)")
    dd.set_defaults(func=_cmd_data_download)

    ep = sub.add_parser("evaluate", help="accuracy of a BNN with a kernel swapped in at test time")
    ep.add_argument("--model", required=True, help="pretrained name (e.g. fashion-mnist-design) or .safetensors file")
    ep.add_argument("--kernel", default="trained", help="kernel spec, or 'trained' (the kernels it was trained with)")
    ep.add_argument("--layers", default="all", help="'all' or a comma list of binary-layer indices or names")
    ep.add_argument("--count", type=int, default=None,
                    help="N test images, the same number of each class (of the embedded subset: its first N)")
    ep.add_argument("--full", action="store_true", help="the full test set instead of the embedded subset")
    ep.add_argument("--data", default=None, help="dataset path (default: the data folder)")
    ep.add_argument("--sweep", nargs="?", const="", default=None, metavar="S,S,...",
                    help="accuracy with --kernel's thresholds scaled by each strength (0 = Sign, 1 = as given; "
                         "default 0 to 2 in steps of 0.25)")
    ep.add_argument("--json", action="store_true")
    ep.set_defaults(func=_cmd_evaluate)

    mp = sub.add_parser("maps", help="feature maps of a BNN on one image: +1s and flipped bits per layer, a PNG")
    mp.add_argument("--model", required=True, help="pretrained name (e.g. cifar10-design) or .safetensors file")
    mp.add_argument("--kernel", required=True, help="kernel spec (batch-norm units) to compare with Sign")
    mp.add_argument("--image", default=None, help="an image file, resized to the model's input")
    mp.add_argument("--index", type=int, default=None, help="a held-out test image instead (default: image 0)")
    mp.add_argument("--data", default=None, help="dataset path for --index (Fashion-MNIST: the embedded subset)")
    mp.add_argument("--layer", default=None, help="binary layer for --out: its index (from 0, as the table lists) "
                    "or name")
    mp.add_argument("--out", default=None, metavar="FILE.png",
                    help="write the layer's channels side by side: batch-norm output, Sign, the kernel")
    mp.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    mp.add_argument("--json", action="store_true")
    mp.set_defaults(func=_cmd_maps)

    cp = sub.add_parser("cost", help="what kernels cost a BNN at inference against Sign: thresholds, compares, bytes, time")
    cp.add_argument("--model", default=None, help="pretrained name (e.g. cifar10-design) or .safetensors file")
    cp.add_argument("--arch", choices=list(ARCHS), default=None,
                    help="an untrained architecture instead (counts are the architecture's; 'trained' is Sign)")
    cp.add_argument("--width", type=float, default=1.0, help="width multiplier of --arch")
    cp.add_argument("--dataset", choices=["fashion-mnist", "cifar10"], default=None,
                    help="input size of --arch (default: fmnist-net takes Fashion-MNIST's, the others CIFAR-10's)")
    cp.add_argument("--kernel", nargs="+", default=None,
                    help="kernel specs, or 'trained' (its own kernels; the default)")
    cp.add_argument("--layers", default="all", help="'all' or a comma list of binary-layer indices or names")
    cp.add_argument("--time", action="store_true", help="also time folded inference against Sign (a few seconds)")
    cp.add_argument("--json", action="store_true", help="per-layer rows and totals as JSON")
    cp.add_argument("--tables", default=None, metavar="FILE.safetensors",
                    help="also write the folded thresholds a deployment stores (one kernel), per binary layer")
    cp.add_argument("--force", action="store_true", help="overwrite --tables if it exists")
    cp.set_defaults(func=_cmd_cost)

    tp = sub.add_parser("train", help="train a BNN (checkpoint each epoch, --resume, model card)")
    tp.add_argument("--dataset", choices=["fashion-mnist", "cifar10"], required=True)
    tp.add_argument("--arch", choices=list(ARCHS), required=True)
    tp.add_argument("--activation", default="sign", help="sign, rsign, design, design3d, learned, or a kernel spec")
    tp.add_argument("--kernel", default=None, help="kernel of design/learned activations")
    tp.add_argument("--width", type=float, default=1.0)
    tp.add_argument("--unit", choices=list(UNITS), default="plain",
                    help="resnet-20's residual unit: plain, or bn-prelu (batch norm after each binary convolution, "
                         "PReLU after the addition)")
    tp.add_argument("--no-affine", action="store_true", help="batch norm without learnable scale and shift")
    tp.add_argument("--scale-by-gamma", action="store_true", help="thresholds scaled by the batch-norm gamma")
    tp.add_argument("--epochs", type=int, default=10)
    tp.add_argument("--batch-size", type=int, default=128)
    tp.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    tp.add_argument("--lr", type=float, default=2e-3)
    tp.add_argument("--weight-decay", type=float, default=5e-4)
    tp.add_argument("--label-smoothing", type=float, default=0.1)
    tp.add_argument("--seed", type=int, default=0)
    tp.add_argument("--limit", type=int, default=0, help="use a balanced subset of N train and N test images (the same number of each class)")
    tp.add_argument("--threads", type=int, default=0)
    tp.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    tp.add_argument("--no-cuda-graph", action="store_true",
                    help="on a GPU, run every step eagerly instead of replaying full batches from a CUDA graph")
    tp.add_argument("--compile", action="store_true",
                    help="run full batches through torch.compile (fused kernels; compiles first, one process only)")
    tp.add_argument("--data", default=None)
    tp.add_argument("--out", required=True, help="run folder (checkpoint.pt, card.json)")
    tp.add_argument("--export", default=None, help="also save the trained model as .safetensors")
    tp.add_argument("--resume", action="store_true")
    tp.add_argument("--json", action="store_true")
    tp.set_defaults(func=_cmd_train)

    gp = sub.add_parser("design", help="threshold-kernel search (the DeSign procedure, exact tables, local search, 3-D)")
    gp.add_argument("--size", default="2x2", help="2x2 (1,296 candidates) up to 3x3 (10,077,696) exhaustively; "
                                                  "up to 16x16 with --method local")
    gp.add_argument("--objective", default="tv", choices=["tv", "tv_match", "mse", "psnr", "correlation", "csf_psnr"])
    gp.add_argument("--images", default="subset", help="subset (embedded), fashion-mnist, cifar10, or a folder")
    gp.add_argument("--count", type=int, default=1000, help="number of images")
    gp.add_argument("--data", default=None, help="dataset path for fashion-mnist or cifar10")
    gp.add_argument("--seed", type=int, default=0, help="seed of the random binary 3x3 convolution")
    gp.add_argument("--method", choices=["table", "simulate", "local"], default="table",
                    help="table: exhaustive, exact; simulate: exhaustive, the reference path (2x2); "
                         "local: coordinate descent on the tables (any size)")
    gp.add_argument("--restarts", type=int, default=8, help="random starts of the local search")
    gp.add_argument("--slices", type=int, default=0, help="F > 0: a 3-D kernel of F channel-cycled slices")
    gp.add_argument("--top", type=int, default=10)
    gp.add_argument("--scale-from", default=None, metavar="MODEL",
                    help="also map levels to batch-norm units by matching this model's measured pre-activations")
    gp.add_argument("--json", action="store_true")
    gp.set_defaults(func=_cmd_design)

    lp = sub.add_parser("learn-kernel", help="learn the threshold kernel of a pretrained model (others frozen)")
    lp.add_argument("--model", required=True, help="pretrained name or .safetensors file")
    lp.add_argument("--init", default="preset:design-2x2-a", help="starting kernel spec (batch-norm units)")
    lp.add_argument("--steps", type=int, default=300)
    lp.add_argument("--lr", type=float, default=0.02)
    lp.add_argument("--seed", type=int, default=0)
    lp.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    lp.add_argument("--keep-best", type=int, default=None, metavar="N",
                    help="every N steps measure the loss on 2,000 training images; keep the best kernel, not the last")
    lp.add_argument("--count", type=int, default=10000, help="test images for the before/after accuracy")
    lp.add_argument("--data", default=None)
    lp.add_argument("--out", required=True, help="kernel file to write (.json, .npy, .mat)")
    lp.add_argument("--force", action="store_true")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(func=_cmd_learn_kernel)

    bp = sub.add_parser("bench", help="measure the core's speed figures")
    bp.add_argument("--json", action="store_true")
    bp.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    bp.set_defaults(func=_cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 user error)."""
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # bare `dither-lab`: what it can do, not an error
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(argv)
        args.func(args)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:
        print(f"dither-lab: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 2
    return 0


def main_exit() -> None:
    """Console-script entry point (``dither-lab``)."""
    sys.exit(main())
