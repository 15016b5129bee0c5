"""Commands on a trained network: ``evaluate``, ``maps``, ``cost`` and ``learn-kernel``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dither_lab.cli.common import (
    CliError,
    add_model_options,
    add_output_options,
    load_eval_model,
    parse_layers,
    print_json,
    refuse_overwrite,
    test_images,
)
from dither_lab.nn.catalog import ARCHS


def _cmd_evaluate(a: argparse.Namespace) -> None:
    import numpy as np

    from dither_lab.data import balanced_subset
    from dither_lab.nn.evaluate import evaluate

    model, dataset = load_eval_model(a.model)
    count = a.count
    data = test_images(dataset, a.data, full=a.full)
    if data.split == "test" and count is not None:  # files may be sorted by class: take each class alike
        data, count = balanced_subset(data, count), None  # (the embedded subset is mixed already: its first N)
    kernel = None if a.kernel == "trained" else a.kernel
    layers = parse_layers(a.layers, kernel is not None, "evaluate")
    if a.sweep is not None:
        _sweep(a, model, data, kernel, layers, count)
        return
    res = evaluate(model, data, kernel=kernel, layers=layers, count=count, engine=a.engine)
    res["model"] = a.model
    res["data"] = f"{data.name} {data.split}"
    if a.json:
        print_json(res)
    else:
        which = "its trained kernels" if kernel is None else f"kernel {a.kernel}"
        print(f"{a.model} on {res['data']} ({res['count']} images), {which}: accuracy {res['accuracy']:.4f} "
              f"({res['engine']} engine, {res['seconds']:.2f} s)")
        counts = np.asarray(res["confusion"]).sum(1)
        for cls, acc, n in zip(res["classes"], res["per_class"].values(), counts, strict=True):
            print(f"  {cls:<14}{acc:>8.4f}  ({n} images)")


def _sweep(a: argparse.Namespace, model: Any, data: Any, kernel: str | None, layers: Any, count: int | None) -> None:
    from dither_lab.nn.evaluate import SWEEP_STRENGTHS, evaluate, strength_sweep

    if kernel is None:
        raise CliError("dither-lab evaluate: --sweep scales a kernel; give it with --kernel SPEC")
    try:
        strengths = [float(v) for v in a.sweep.split(",")] if a.sweep else list(SWEEP_STRENGTHS)
    except ValueError:
        raise CliError(f"dither-lab evaluate: --sweep takes comma-separated numbers, got {a.sweep!r}") from None
    rows = strength_sweep(model, data, kernel, strengths, layers=layers, count=count, engine=a.engine)
    trained = evaluate(model, data, count=count, engine=a.engine)["accuracy"]
    if a.json:
        print_json({"model": a.model, "data": f"{data.name} {data.split}", "kernel": kernel, "layers": a.layers,
                     "count": min(count or len(data), len(data)), "trained_accuracy": trained, "engine": a.engine, "sweep": rows})
        return
    print(f"{a.model}: {kernel} with its thresholds scaled (0 = Sign), on {data.name} {data.split}; "
          f"trained kernels {trained:.4f}")
    for r in rows:
        print(f"  strength {r['strength']:>5g}  accuracy {r['accuracy']:.4f}")


def _cmd_maps(a: argparse.Namespace) -> None:
    import numpy as np

    from dither_lab.data import prepare_image
    from dither_lab.io import load_image, save_image
    from dither_lab.nn.feature_maps import layer_maps, layer_mosaic, layer_summary
    from dither_lab.nn.models import resolve_layers

    model, dataset = load_eval_model(a.model, "maps")
    refuse_overwrite(a.out, a.force)
    if a.image is not None and a.index is not None:
        raise CliError("dither-lab maps: give --image or --index, not both")
    if a.image is not None:
        image = prepare_image(load_image(a.image, mode="gray" if dataset == "fashion-mnist" else "rgb"), dataset)
        source = str(a.image)
    else:
        index = a.index or 0
        data = test_images(dataset, a.data)
        if not 0 <= index < len(data):
            raise CliError(f"dither-lab maps: --index must be in 0..{len(data) - 1}, got {index}")
        image = np.asarray(data.images[index : index + 1])
        source = f"{data.name} {data.split} image {index} ({data.classes[int(data.labels[index])]})"
    if a.out is not None and a.layer is None:
        raise CliError("dither-lab maps: --out draws one layer's channels; say which with --layer")
    # one layer as --layers names them: a 0-based index or a name
    layer = None if a.layer is None else resolve_layers(model, parse_layers(a.layer, True, "maps"))[0]
    maps = layer_maps(model, image, dataset)  # the network running with its trained kernels
    rows = layer_summary({n: m["bn"][0] for n, m in maps.items()}, a.kernel)
    if a.out is not None:
        shown = layer_mosaic(maps[layer]["bn"][0], a.kernel)["shown"]
        gap = np.ones((shown["real"].shape[0], 4), dtype=np.float32)  # white between the three montages
        save_image(np.hstack([shown["real"], gap, shown["Sign"], gap, shown["dithered"]]), a.out, force=a.force)
    if a.json:
        print_json({"model": a.model, "input": source, "kernel": a.kernel, "layers": rows,
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


def _cmd_export(a: argparse.Namespace) -> None:
    from dither_lab.engine import compile_model, save_program

    refuse_overwrite(a.out, a.force)
    model, dataset = load_eval_model(a.model, "export")
    kernel = None if a.kernel == "trained" else a.kernel
    layers = parse_layers(a.layers, kernel is not None, "export")
    from dither_lab.data import NORMALIZATION

    program = compile_model(model, kernel=kernel, layers=layers)
    mean, std = NORMALIZATION[dataset]  # so the file alone turns uint8 images into the model's input
    program.graph.setdefault("meta", {})["normalization"] = {"dataset": dataset, "mean": list(mean), "std": list(std)}
    path = save_program(program, a.out, force=a.force)
    info = {"out": str(path), "model": a.model, "dataset": dataset, "kernel": a.kernel, "layers": program.layers,
            "input_shape": list(program.input_shape), "classes": program.classes, "bytes": program.nbytes(),
            "file_bytes": path.stat().st_size}
    if a.json:
        print_json(info)
    else:
        b = info["bytes"]
        print(f"wrote {path}: {a.model} with {'its trained kernels' if kernel is None else a.kernel}, "
              f"{len(program.layers)} binary layers; {b['total']:,} bytes (packed weights {b['packed_weights']:,}, "
              f"threshold tables {b['threshold_tables']:,}, float parts {b['float_parts']:,}). It runs with NumPy "
              "and numba alone: p = dither_lab.engine.load_program(path); p.predict(p.standardize(uint8_images))")


def _cmd_cost(a: argparse.Namespace) -> None:
    from dither_lab.engine import compile_model
    from dither_lab.nn.cost import inference_time, kernel_cost, tables_cost
    from dither_lab.nn.models import model_nbytes

    if (a.model is None) == (a.arch is None):
        raise CliError("dither-lab cost: give --model (a trained network) or --arch (an untrained one), not both")
    if a.arch:
        from dither_lab.nn.models import build_model
        from dither_lab.nn.train import SHIPPED_MODELS

        # the input of the dataset it is made for: the one whose shipped model it is, else CIFAR-10
        dataset = a.dataset or next((d for d, m in SHIPPED_MODELS.items() if m["arch"] == a.arch), "cifar10")
        shape = SHIPPED_MODELS[dataset]
        model = build_model(a.arch, in_channels=shape["in_channels"], image_size=shape["image_size"], width=a.width)
        name = f"{a.arch} (untrained, width {a.width:g}, {dataset} input)"
    elif a.dataset:
        raise CliError("dither-lab cost: --dataset sets the input of --arch; a trained --model has its own")
    else:
        model, _ = load_eval_model(a.model, "cost")
        name = a.model
    kernels = a.kernel or ["trained"]
    layers = parse_layers(a.layers, kernels != ["trained"], "cost")
    if a.tables and len(kernels) > 1:
        raise CliError("dither-lab cost: --tables writes the thresholds of one kernel; give one --kernel")
    if a.tables:
        from dither_lab.io import save_tensors
        from dither_lab.nn.cost import threshold_tables

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
        res["packed_bytes"] = compile_model(model, kernel=kernel, layers=layers if kernel is not None else None).nbytes()
        if a.time:  # both engines: the float emulation and the packed 1-bit engine
            res["time"] = inference_time(model, kernel, layers=layers)
            res["time_packed"] = inference_time(model, kernel, layers=layers, engine="packed")
        out.append(res)
    if a.json:
        print_json({"model": name, "kernels": out})
        return
    print(f"{name}: thresholds stored after folding batch norm (Sign: one per channel), compares per image, "
          f"extra bytes at float32 against Sign (model {out[0]['model_bytes']:,} bytes)")
    head = f"{'kernel':<28}{'thresholds':>12}{'Sign':>8}{'compares':>11}{'extra MACs':>12}{'extra bytes':>13}{'of model':>10}"
    print(head)
    for r in out:
        print(f"{r['kernel'][:27]:<28}{r['thresholds']:>12,}{r['sign_thresholds']:>8,}{r['compares']:>11,}"
              f"{r['extra_macs']:>12}{r['extra_bytes']:>13,}{r['extra_share']:>10.1%}")
    print(f"\n{'packed 1-bit program':<28}{'bytes':>12}{'thresholds':>12}{'weights':>10}{'float parts':>13}")
    for r in out:
        b = r["packed_bytes"]
        print(f"{r['kernel'][:27]:<28}{b['total']:>12,}{b['threshold_tables']:>12,}{b['packed_weights']:>10,}"
              f"{b['float_parts']:>13,}")
    if a.time:
        print(f"\n{'time per image':<28}{'float':>12}{'/ Sign':>9}{'packed':>12}{'/ Sign':>9}{'float / packed':>16}")
        for r in out:
            f, p = r["time"], r["time_packed"]
            print(f"{r['kernel'][:27]:<28}{1e3 * f['seconds_per_image']:>10.3f}ms{f['ratio']:>8.2f}x"
                  f"{1e3 * p['seconds_per_image']:>10.3f}ms{p['ratio']:>8.2f}x"
                  f"{f['seconds_per_image'] / p['seconds_per_image']:>15.2f}x")
        print("/ Sign: the same engine with Sign in the same layers, timed alternately in one run; float / packed: "
              "how much faster the packed 1-bit engine runs it")


def _cmd_learn_kernel(a: argparse.Namespace) -> None:
    from dither_lab.data import balanced_subset, load_dataset
    from dither_lab.io import save_kernel
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.learned import learn_kernel

    refuse_overwrite(a.out, a.force)
    model, dataset = load_eval_model(a.model, "learn-kernel")
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
        print_json(res)
    else:
        print(f"wrote {a.out}; accuracy {before:.4f} -> {after:.4f} on {res['count']} test images")


def add_evaluate(sub: Any) -> None:
    """The ``evaluate`` command."""
    ep = sub.add_parser("evaluate", help="accuracy of a BNN with a kernel swapped in at test time")
    add_model_options(ep)
    ep.add_argument("--count", type=int, default=None,
                    help="N test images, the same number of each class (of the embedded subset: its first N)")
    ep.add_argument("--full", action="store_true", help="the full test set instead of the embedded subset")
    ep.add_argument("--data", default=None, help="dataset path (default: the data folder)")
    ep.add_argument("--sweep", nargs="?", const="", default=None, metavar="S,S,...",
                    help="accuracy with --kernel's thresholds scaled by each strength (0 = Sign, 1 = as given; "
                         "default 0 to 2 in steps of 0.25)")
    ep.add_argument("--engine", choices=["float", "packed"], default="float",
                    help="float: PyTorch's float32 emulation of +-1 values; packed: the 1-bit engine (XOR-popcount on "
                         "packed bits, the same predictions, faster)")
    ep.add_argument("--json", action="store_true")
    ep.set_defaults(func=_cmd_evaluate)


def add_maps(sub: Any) -> None:
    """The ``maps`` command."""
    mp = sub.add_parser("maps", help="feature maps of a BNN on one image: +1s and flipped bits per layer, a PNG")
    add_model_options(mp, kernel=False, layers=False)
    mp.add_argument("--kernel", required=True, help="kernel spec (batch-norm units) to compare with Sign")
    mp.add_argument("--image", default=None, help="an image file, resized to the model's input")
    mp.add_argument("--index", type=int, default=None, help="a held-out test image instead (default: image 0)")
    mp.add_argument("--data", default=None, help="dataset path for --index (Fashion-MNIST: the embedded subset)")
    mp.add_argument("--layer", default=None, help="binary layer for --out: its index (from 0, as the table lists) "
                    "or name")
    mp.add_argument("--out", default=None, metavar="FILE.png",
                    help="write the layer's channels side by side: batch-norm output, Sign, the kernel")
    add_output_options(mp, what="--out")
    mp.set_defaults(func=_cmd_maps)


def add_cost(sub: Any) -> None:
    """The ``cost`` command."""
    cp = sub.add_parser("cost", help="what kernels cost a BNN at inference against Sign: thresholds, compares, bytes, time")
    add_model_options(cp, kernel=False, layers=False, required=False)
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


def add_export(sub: Any) -> None:
    """The ``export`` command."""
    xp = sub.add_parser("export", help="compile a BNN with a kernel into a packed 1-bit program file (runs without "
                                       "PyTorch)")
    add_model_options(xp)
    xp.add_argument("--out", required=True, metavar="FILE.safetensors", help="the program file to write")
    add_output_options(xp, what="--out")
    xp.set_defaults(func=_cmd_export)


def add_learn_kernel(sub: Any) -> None:
    """The ``learn-kernel`` command."""
    lp = sub.add_parser("learn-kernel", help="learn the threshold kernel of a pretrained model (others frozen)")
    add_model_options(lp, kernel=False, layers=False)
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
    add_output_options(lp, what="--out")
    lp.set_defaults(func=_cmd_learn_kernel)
