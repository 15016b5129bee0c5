"""Train every run of the project's studies in one go, sized to a time budget (on a GPU when there is one).

    python scripts/campaign.py plan                                   # list the runs
    python scripts/campaign.py run --budget-s 480 --slots 14 --cifar PATH/cifar10-jpg.tar.gz \\
        --fmnist PATH/fashion-mnist --out runs/campaign                # train them all
    python scripts/campaign.py collect runs/campaign --tag NAME [--publish]   # study results (and ship weights)

The runs, all with the shipped models' recipe (``scripts/train_pretrained.py``):

* ship: Fashion-MNIST fmnist-net (width 0.5) and CIFAR-10 ResNet-20, each with Sign and with DeSign, seed 0,
  learnable batch-norm scale and shift; the shipped weights.
* study: the first study, Sign against DeSign: Fashion-MNIST with seeds 0, 1, 2, with and without batch-norm
  scale and shift; CIFAR-10 with seed 0, with and without them.
* compare: Fashion-MNIST trained with every other kernel of :data:`dither_lab.study.STUDY_KERNELS` (seed 0).

``run`` first trains each of the first ``--slots`` runs for two short epochs (25,600 images each) side by side,
to measure the speed under the real load, then chooses the epochs per dataset so that the whole plan ends inside
the budget (Sign and DeSign always get the same recipe), starts the runs in a pool of ``--slots`` processes, and
stops any run still going at the deadline; ``--epochs N`` skips the probe and gives every run N epochs. The speed
is read from the probe's second epoch: its first carries the warm-up (cuDNN autotuning, first allocations), and
the one-epoch probe this replaced overestimated. On one H200 the one-epoch probe sized 2 ResNet-20 runs at 26 s
an epoch, and they trained 10.1-10.3 s an epoch (22 epochs in 242 of 488 s at ``--safety 1.25``); the two-epoch
probe sized 2 graphed runs (CUDA graphs, ``dither_lab.nn.train``) at 6.3 s an epoch, and they trained 5.6-5.7 s (40
epochs, done 269 s into a 333-s budget at ``--safety 0.9``). ``--no-cuda-graph`` trains eagerly and ``--compile``
through ``torch.compile``. Each run's folder holds its card, weights and
log. ``collect`` writes every run's card to dither_lab/assets/study/campaign_<tag>_<dataset>.json and, with
``--publish``, copies the ship weights into dither_lab/assets/ (manifest, cards).

A schedule longer than one time budget: ``run --epochs 200 --keep-checkpoints --pack X.tar.gz ...`` trains until
the deadline and packs every run's checkpoint (written after each epoch); call ``run`` again with the same
``--epochs`` and ``--resume-pack X.tar.gz`` (or unpack X and give ``--out UNPACKED/campaign``): each run resumes
where it stopped, exactly as if uninterrupted (``dither_lab.nn.train``), and ends with its weights and
``result.json`` for ``collect``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

import checkout  # noqa: E402

from dither_lab.io import record_asset  # noqa: E402
from dither_lab.nn.train import shipped_run  # noqa: E402
from dither_lab.study import STUDY_KERNELS  # noqa: E402

TRAIN_SIZE = {"fashion-mnist": 60_000, "cifar10": 50_000}
MAX_EPOCHS = {"fashion-mnist": 60, "cifar10": 200}
PROBE_IMAGES = 25_600
PROBE_EPOCHS = 2  # the speed is read from the last: the first carries the warm-up


def run_spec(dataset: str, activation: str, *, seed: int = 0, affine: bool = True, group: str) -> dict:
    model = shipped_run(dataset, activation, epochs=1, seed=seed, affine=affine).model
    tag = activation.replace(":", "-").replace(";", "_").replace(",", "")
    arch = model["arch"] + (f"-{model['unit']}" if model.get("unit", "plain") != "plain" else "")
    name = f"{dataset}-{arch}-{tag}-{'affine' if affine else 'noaffine'}-s{seed}"
    return {"name": name, "group": group, "dataset": dataset, "model": model, "seed": seed}


def plan() -> list[dict]:
    """All runs, longest first (CIFAR-10), then Fashion-MNIST ship, study and compare runs."""
    runs = [run_spec("cifar10", a, group="ship") for a in ("sign", "design")]
    runs += [run_spec("cifar10", a, affine=False, group="study") for a in ("sign", "design")]
    runs += [run_spec("fashion-mnist", a, group="ship") for a in ("sign", "design")]
    for affine in (True, False):
        for seed in (0, 1, 2):
            if affine and seed == 0:
                continue  # the ship runs
            runs += [run_spec("fashion-mnist", a, seed=seed, affine=affine, group="study") for a in ("sign", "design")]
    runs += [run_spec("fashion-mnist", k.activation, group="compare") for k in STUDY_KERNELS
             if k.activation not in ("sign", "design")]
    return runs


# ------------------------------------------------------------------------------------------------------ worker


def worker(spec: dict, epochs: int, out: Path, data: dict[str, str], probe: int, cuda_graph: bool = True,
           compile: bool = False) -> None:
    """Train one run (in its own process) and write ``result.json`` beside its card and weights."""
    import numpy as np
    import torch

    from dither_lab.data import load_dataset
    from dither_lab.nn.evaluate import predict
    from dither_lab.nn.train import resolve_device, train

    torch.set_num_threads(1)
    torch.backends.cudnn.benchmark = True
    ds = spec["dataset"]
    tr, te = load_dataset(ds, "train", path=data[ds]), load_dataset(ds, "test", path=data[ds])
    if probe:
        tr = tr.subset(slice(0, probe))
    run = shipped_run(ds, spec["model"]["activation"], epochs=epochs, seed=spec["seed"], affine=spec["model"]["affine"])
    t0 = time.perf_counter()
    card = train(run, tr, te, out, resume=True, device="auto", progress=False, export=out / "model.safetensors",
                 cuda_graph=cuda_graph, compile=compile)
    total = time.perf_counter() - t0
    dev = resolve_device("auto")
    result = {"spec": spec, "epochs": epochs, "probe": probe, "total_s": total, "card": card}
    if probe:
        from dither_lab.nn.models import load_model

        m, _ = load_model(out / "model.safetensors")
        m = m.to(dev)
        predict(m, te.images[:1000], ds, device=dev)  # warm
        t1 = time.perf_counter()
        acc = float((predict(m, te.images, ds, device=dev) == np.asarray(te.labels)).mean())
        result["eval_s"] = time.perf_counter() - t1
        result["probe_test_acc"] = acc
        steps = math.ceil(len(tr) / run.recipe.batch_size)
        result["step_s"] = card["history"][-1]["seconds"] / steps  # the last epoch: past the warm-up
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")


# ------------------------------------------------------------------------------------------------------ driver


class Pool:
    """Up to ``slots`` worker processes at a time, each logging to its run folder."""

    def __init__(self, slots: int, data: dict[str, str], flags: list[str] | None = None) -> None:
        self.slots, self.data, self.live, self.flags = slots, data, {}, list(flags or [])  # flags: passed to workers

    def start(self, spec: dict, epochs: int, out: Path, probe: int = 0) -> None:
        out.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "worker", "--spec", json.dumps(spec),
               "--epochs", str(epochs), "--out", str(out), "--data", json.dumps(self.data), "--probe", str(probe)]
        cmd += self.flags
        log = open(out / "log.txt", "w")  # noqa: SIM115 (closed when the process ends)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.live[spec["name"]] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log, out)

    def reap(self) -> list[tuple[str, int, Path]]:
        done = []
        for name, (p, log, out) in list(self.live.items()):
            if p.poll() is not None:
                log.close()
                done.append((name, p.returncode, out))
                del self.live[name]
        return done

    def kill_all(self) -> dict[str, Path]:
        """Stop every live worker; returns their names and run folders."""
        stopped = {name: out for name, (_, _, out) in self.live.items()}
        for p, log, _ in self.live.values():
            p.kill()
            p.wait()
            log.close()
        self.live.clear()
        return stopped


def choose_epochs(probes: list[dict], runs: list[dict], slots: int, seconds: float) -> dict[str, int]:
    """Epochs per dataset so that every run ends within ``seconds`` at the speed measured under load."""
    per_epoch = {}
    for ds in TRAIN_SIZE:
        got = [p for p in probes if p["spec"]["dataset"] == ds]
        if not got:
            continue
        steps = math.ceil(TRAIN_SIZE[ds] / shipped_run(ds, "sign", epochs=1).recipe.batch_size)
        per_epoch[ds] = max(p["step_s"] for p in got) * steps + max(p["eval_s"] for p in got) + 0.5
    n_c = sum(r["dataset"] == "cifar10" for r in runs)
    n_f = len(runs) - n_c
    epochs = {}
    startup = 15.0  # process start, CUDA context, data load
    if n_c:
        epochs["cifar10"] = max(1, min(MAX_EPOCHS["cifar10"], int((seconds - startup) / per_epoch["cifar10"])))
    if n_f:
        waves = math.ceil(n_f / max(1, slots - n_c))
        fit = (seconds - waves * startup) / (waves * per_epoch["fashion-mnist"])
        epochs["fashion-mnist"] = max(1, min(MAX_EPOCHS["fashion-mnist"], int(fit)))
    return epochs | {"per_epoch_s": per_epoch}  # type: ignore[return-value]


def probe_epochs(a: argparse.Namespace, runs: list[dict], pool: Pool, out: Path, log: dict, deadline: float,
                 t_start: float) -> dict | None:
    """Train the first runs for ``PROBE_EPOCHS`` short epochs side by side, then size the epochs to the time left
    (None: the probe failed, which ``log`` records)."""
    probe_runs = runs[: a.slots]
    for ds in dict.fromkeys(r["dataset"] for r in runs):  # every dataset needs a measured speed
        if not any(r["dataset"] == ds for r in probe_runs):
            probe_runs[-1] = next(r for r in runs if r["dataset"] == ds)
    for r in probe_runs:
        pool.start(r, PROBE_EPOCHS, out / "probe" / r["name"], probe=a.probe_images)
    probe_deadline = time.perf_counter() + a.probe_timeout_s
    while pool.live and time.perf_counter() < probe_deadline:
        time.sleep(1)
        pool.reap()
    stuck = list(pool.kill_all())
    probes = []
    for r in probe_runs:
        f = out / "probe" / r["name"] / "result.json"
        if f.is_file():
            probes.append(json.loads(f.read_text()))
        else:
            print(f"probe of {r['name']} failed:\n" + (out / "probe" / r["name"] / "log.txt").read_text()[-3000:])
    if stuck or len(probes) < len(probe_runs):
        log["error"] = f"probe failed ({len(probe_runs) - len(probes)} of {len(probe_runs)}; stuck: {stuck})"
        print(log["error"], flush=True)
        (out / "campaign.json").write_text(json.dumps(log, indent=2))
        return None
    left = deadline - time.perf_counter()
    epochs = choose_epochs(probes, runs, a.slots, a.safety * left)
    log["probe"] = [{"name": p["spec"]["name"], "step_s": p["step_s"], "eval_s": p["eval_s"], "total_s": p["total_s"],
                     "device": p["card"]["device"]} for p in probes]
    print(f"[{time.perf_counter() - t_start:.0f} s] probe done; {left:.0f} s left; epochs {epochs}", flush=True)
    return epochs


def drive(a: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    deadline = t_start + a.budget_s - a.pack_s
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    data = {"cifar10": a.cifar, "fashion-mnist": a.fmnist}
    from dither_lab.data import load_dataset

    for ds in data:  # build the uint8 caches once, before the workers start
        for split in ("train", "test"):
            load_dataset(ds, split, path=data[ds])
    print(f"[{time.perf_counter() - t_start:.0f} s] data cached", flush=True)
    if a.resume_pack:
        restored = unpack_into(Path(a.resume_pack), out)
        print(f"[{time.perf_counter() - t_start:.0f} s] {restored} files restored from {a.resume_pack}", flush=True)
    runs = plan() if a.only is None else [r for r in plan() if r["name"] in a.only or r["group"] in a.only]
    log = {"runs": [r["name"] for r in runs], "budget_s": a.budget_s, "slots": a.slots, "commit": a.commit,
           "only": a.only, "cuda_graph": not a.no_cuda_graph, "compile": a.compile,
           "fixed_epochs": a.epochs or None,
           "safety": None if a.epochs else a.safety}
    pool = Pool(a.slots, data, ["--no-cuda-graph"] * a.no_cuda_graph + ["--compile"] * a.compile)
    if a.epochs:  # a fixed schedule: no probe; runs resume from their folders' checkpoints
        epochs = {ds: a.epochs for ds in TRAIN_SIZE}
    else:
        epochs = probe_epochs(a, runs, pool, out, log, deadline, t_start)
        if epochs is None:
            return
    log["epochs"] = epochs
    queue = list(runs)
    status: dict[str, str] = {}
    started: dict[str, float] = {}
    while (queue or pool.live) and time.perf_counter() < deadline:
        while queue and len(pool.live) < a.slots:
            r = queue.pop(0)
            pool.start(r, epochs[r["dataset"]], out / r["group"] / r["name"])
            started[r["name"]] = time.perf_counter()
        time.sleep(2)
        for name, rc, run_out in pool.reap():
            status[name] = "done" if rc == 0 and (run_out / "result.json").is_file() else f"failed (exit {rc})"
            print(f"[{time.perf_counter() - t_start:.0f} s] {name}: {status[name]} after "
                  f"{time.perf_counter() - started[name]:.0f} s", flush=True)
            if rc != 0:
                print((run_out / "log.txt").read_text()[-2000:], flush=True)
    for name, run_out in pool.kill_all().items():
        status[name] = f"stopped at the deadline after {_epochs_done(run_out)} epochs"
    for r in queue:
        status[r["name"]] = "not started"
    log["status"] = status
    log["wall_s"] = time.perf_counter() - t_start
    (out / "campaign.json").write_text(json.dumps(log, indent=2) + "\n")
    print(json.dumps({k: v for k, v in log.items() if k != "runs"}, indent=1), flush=True)
    if a.pack:
        def keep(ti: tarfile.TarInfo) -> tarfile.TarInfo | None:
            return None if ti.name.endswith("checkpoint.pt") and not a.keep_checkpoints else ti

        with tarfile.open(a.pack, "w:gz") as tar:
            tar.add(out, arcname="campaign", filter=keep)
        print(f"packed {a.pack} ({Path(a.pack).stat().st_size} bytes)")


def unpack_into(pack: Path, out: Path) -> int:
    """Restore the run folders of an earlier ``run --pack`` into ``out``; files already in ``out`` are kept (they
    are at least as new). Returns the number of files restored."""
    if not pack.is_file():
        raise SystemExit(f"--resume-pack: {pack} is not a file")
    restored = 0
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(pack) as tar:
                tar.extractall(tmp, filter="data")  # no absolute paths, links out of the folder or special files
        except (tarfile.TarError, OSError) as exc:
            raise SystemExit(f"--resume-pack: {pack} is not a pack this script wrote ({exc})") from None
        src = Path(tmp) / "campaign"
        for f in sorted(src.rglob("*")):
            dst = out / f.relative_to(src)
            if f.is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dst)
                restored += 1
    return restored


def run_args(camp: dict) -> str:
    """The options of the ``run`` that wrote ``camp`` (its campaign.json) that shaped its results."""
    # logs written before fixed_epochs was recorded: a fixed schedule is the one without a probe
    fixed = camp.get("fixed_epochs") or (None if camp.get("probe") else next(iter(camp["epochs"].values())))
    args = [f"--budget-s {camp['budget_s']:g}", f"--slots {camp['slots']}"]
    if fixed:
        args.append(f"--epochs {fixed}")
    if camp.get("safety") is not None:
        args.append(f"--safety {camp['safety']:g}")
    if camp.get("cuda_graph") is False:
        args.append("--no-cuda-graph")
    if camp.get("compile"):
        args.append("--compile")
    if camp.get("only"):
        args.append("--only " + " ".join(camp["only"]))
    return " ".join(args)


def _epochs_done(run_dir: Path) -> int:
    """Epochs in a run folder's last checkpoint (0 without one)."""
    from dither_lab.io import load_checkpoint

    ckpt = run_dir / "checkpoint.pt"
    return int(load_checkpoint(ckpt)["epoch"]) if ckpt.is_file() else 0


# ------------------------------------------------------------------------------------------------------ collect


def collect(folder: Path, tag: str, publish_ship: bool) -> None:
    """Write the runs' results to the shipped study results (dither_lab/assets/study) and (``publish_ship``) publish the ship weights in dither_lab/assets/."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_pretrained import publish

    results = {}
    for f in sorted(folder.glob("*/*/result.json")):
        if f.parent.parent.name == "probe":
            continue
        r = json.loads(f.read_text())
        results[r["spec"]["name"]] = r
    camp = json.loads((folder / "campaign.json").read_text())
    for name, r in results.items():
        s = r["spec"]
        if s["group"] != "ship" or not publish_ship:
            continue
        made_by = (f"python scripts/train_pretrained.py --dataset {s['dataset']} --activation {s['model']['activation']} "
                   f"--epochs {r['epochs']} --seed {s['seed']} (its recipe, run on a GPU by scripts/campaign.py run)")
        card = r["card"] if r["card"].get("commit") else {**r["card"], "commit": camp.get("commit", "")}
        publish(folder / s["group"] / name / "model.safetensors", card, dataset=s["dataset"],
                arch=s["model"]["arch"], activation=s["model"]["activation"], made_by=made_by)
    out = checkout.STUDY
    for ds in TRAIN_SIZE:
        rows = [{"name": n, "group": r["spec"]["group"], "activation": r["spec"]["model"]["activation"],
                 "affine": r["spec"]["model"]["affine"], "seed": r["spec"]["seed"], "epochs": r["epochs"],
                 "test_accuracy": r["card"]["test_accuracy"], "wall_time_s": r["card"]["wall_time_s"],
                 "unit": r["spec"]["model"].get("unit"), "device": r["card"]["device"],
                 "cuda_graph": r["card"].get("cuda_graph", False), "compiled": r["card"].get("compiled", False),
                 "history": r["card"]["history"]}
                for n, r in results.items() if r["spec"]["dataset"] == ds]
        if rows:
            path = out / f"campaign_{tag}_{ds}.json"
            path.write_text(json.dumps(
                {"made_by": f"python scripts/campaign.py run {run_args(camp)} ... && "
                            f"python scripts/campaign.py collect ... --tag {tag}",
                 "commit": camp.get("commit"), "probe": camp.get("probe"),
                 "epochs": {k: v for k, v in camp.get("epochs", {}).items() if k in (ds, "per_epoch_s")},
                 "status": camp.get("status"), "runs": rows}, indent=2) + "\n")
            record_asset(f"study/{path.name}", made_by=f"python scripts/campaign.py collect ... --tag {tag}",
                         assets_dir=checkout.ASSETS)
            print(f"wrote {path} ({len(rows)} runs)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("plan")
    r = sub.add_parser("run")
    r.add_argument("--budget-s", type=float, default=480)
    r.add_argument("--pack-s", type=float, default=25, help="seconds kept at the end for packing")
    r.add_argument("--probe-timeout-s", type=float, default=240)
    r.add_argument("--safety", type=float, default=0.8)
    r.add_argument("--slots", type=int, default=14)
    r.add_argument("--probe-images", type=int, default=PROBE_IMAGES)
    r.add_argument("--cifar", required=True)
    r.add_argument("--fmnist", required=True)
    r.add_argument("--out", default="runs/campaign")
    r.add_argument("--only", nargs="*", default=None, help="run names or groups")
    r.add_argument("--pack", default=None, help="write a .tar.gz of the results here")
    r.add_argument("--epochs", type=int, default=0,
                   help="a fixed number of epochs for every run (no probe); runs resume from checkpoints in --out")
    r.add_argument("--keep-checkpoints", action="store_true",
                   help="pack the runs' checkpoints too, so that a later run can continue them")
    r.add_argument("--resume-pack", default=None,
                   help="a pack of an earlier call (with --keep-checkpoints): its runs continue where they stopped")
    r.add_argument("--commit", default="", help="the commit trained (for the cards, where git is absent)")
    w = sub.add_parser("worker")
    w.add_argument("--spec", required=True)
    w.add_argument("--epochs", type=int, required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--data", required=True)
    w.add_argument("--probe", type=int, default=0, help="train on this many images to measure speed")
    for sp in (r, w):
        sp.add_argument("--no-cuda-graph", action="store_true", help="train every step eagerly on a GPU")
        sp.add_argument("--compile", action="store_true", help="full batches through torch.compile")
    c = sub.add_parser("collect")
    c.add_argument("folder")
    c.add_argument("--tag", required=True, help="names the results file: campaign_<tag>_<dataset>.json")
    c.add_argument("--publish", action="store_true", help="copy the ship runs' weights into dither_lab/assets/")
    checkout.add_assets_option(c)
    a = p.parse_args()
    if a.cmd == "collect":
        checkout.use_assets(a.assets)
    if a.cmd == "plan":
        for r in plan():
            print(f"{r['group']:8s} {r['name']}")
    elif a.cmd == "run":
        drive(a)
    elif a.cmd == "worker":
        worker(json.loads(a.spec), a.epochs, Path(a.out), json.loads(a.data), a.probe, not a.no_cuda_graph, a.compile)
    else:
        collect(Path(a.folder), a.tag, a.publish)


if __name__ == "__main__":
    main()
