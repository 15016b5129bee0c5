"""Training of the BNNs: deterministic, resumable, with a model card per run.

Recipe (``Recipe``): Adam or SGD, cosine learning rate with linear warm-up (per step), random-crop and flip
augmentation, label smoothing, weight decay on real-valued weights only (the first convolution, shortcuts and the
classifier; never the latent binary weights, batch-norm parameters or thresholds).

Determinism: the model is initialized from ``seed``; epoch ``e`` draws its order and augmentation from a
generator seeded with ``(seed, e)``, so a run resumed from the checkpoint of epoch ``e`` continues exactly as an
uninterrupted one (on the CPU; on a GPU the same draws are used, but cuDNN's convolutions and TF32 arithmetic are
not bit-reproducible). A checkpoint is written atomically after every epoch. On a GPU the uint8 training set is
copied to the device once and batches are cut, normalized and augmented there.

Speed on a GPU (``TrainStep``): a ResNet-20 step at batch 128 is bound by Python and kernel launches, not by the
GPU. So after a few eager warm-up steps the forward and backward pass of a full batch are captured once in a CUDA
graph and replayed for every later full batch, and the optimizer is the fused (single-kernel) Adam or SGD; the
last, partial batch of an epoch runs eagerly on the same gradient buffers. The arithmetic is the same as eager
(``benchmarks/bench_train_gpu.py`` checks the losses and prints the speed-up). Off with ``cuda_graph=False``;
never under data parallel. ``compile=True`` also runs full batches through ``torch.compile`` (fused kernels; on
a GPU inside the graph), at the cost of compiling first; the partial batch stays eager. Compiled code rounds
differently, so its runs are not bit-identical to eager ones.

Data parallel: started under ``torchrun --nproc_per_node K``, every process draws the same batch and trains on
its 1/K share, and DDP averages the gradients (gloo on CPU, NCCL on GPU), so the update equals the one-process
update except for batch norm: on GPU it is synchronized (SyncBatchNorm); on CPU, where PyTorch has no
synchronized batch norm, each process normalizes its share with its own statistics. Rank 0 writes the
checkpoints, the card and the export.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dither_lab._checks import check_choice
from dither_lab.data import Dataset, normalize
from dither_lab.io import atomic_write, load_checkpoint, save_checkpoint
from dither_lab.nn.catalog import INPUTS
from dither_lab.nn.evaluate import predict
from dither_lab.nn.models import BinaryConv2d, build_model, save_model


@dataclass
class Recipe:
    """Training options (all of them end up in the model card)."""

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 2e-3
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: float = 0.5
    label_smoothing: float = 0.1
    crop_padding: int = 2
    flip: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")


@dataclass
class RunConfig:
    """What to train: model constructor arguments, the dataset, and the recipe."""

    model: dict[str, Any]
    dataset: str
    recipe: Recipe = field(default_factory=Recipe)


#: The shipped models per dataset: architecture, input and width (``scripts/train_pretrained.py``). CIFAR-10's
#: ResNet-20 takes the ``bn-prelu`` unit, which learned faster than ``plain`` in a CPU pilot
#: (``scripts/unit_pilot.py``) and on the GPU (the model card in dither_lab/assets/models/).
SHIPPED_MODELS: dict[str, dict[str, Any]] = {
    "fashion-mnist": {"arch": "fmnist-net", **INPUTS["fashion-mnist"], "width": 0.5},
    "cifar10": {"arch": "resnet-20", **INPUTS["cifar10"], "width": 1.0, "unit": "bn-prelu"},
}
#: Random-crop padding of the recipe per dataset (28x28 images get less).
CROP_PADDING = {"fashion-mnist": 2, "cifar10": 4}


def shipped_run(dataset: str, activation: str, *, epochs: int, seed: int = 0, affine: bool = True,
                width: float | None = None) -> RunConfig:
    """The shipped models' run for ``dataset`` with ``activation``: every study run differs from it only in the
    activation, seed, batch-norm scale and shift, epochs (and, for small pilots, the width)."""
    check_choice("dataset", dataset, tuple(SHIPPED_MODELS))
    model = {**SHIPPED_MODELS[dataset], "activation": activation, "affine": affine}
    if width is not None:
        model["width"] = width
    return RunConfig(model=model, dataset=dataset,
                     recipe=Recipe(epochs=epochs, seed=seed, crop_padding=CROP_PADDING[dataset]))


def resolve_device(device: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from None


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Weight decay on real-valued conv/linear weights only."""
    binary = {id(m.weight) for m in model.modules() if isinstance(m, BinaryConv2d)}
    decay, no_decay = [], []
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            real_weight = name == "weight" and isinstance(m, (nn.Conv2d, nn.Linear)) and id(p) not in binary
            (decay if real_weight else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_at(step: int, total: int, warmup: int, base: float) -> float:
    """Linear warm-up to ``base`` then cosine decay to 0."""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def augment(x: torch.Tensor, gen: torch.Generator, *, padding: int, flip: bool) -> torch.Tensor:
    """Random crop with zero padding and random horizontal flip, per sample, vectorized."""
    n, c, h, w = x.shape
    # The draws come from ``gen`` on the CPU whatever the device; copies from pageable host memory are staged at
    # once, so ``non_blocking`` is safe and keeps the GPU queue from draining every step.
    dev = x.device
    if padding > 0:
        xp = F.pad(x, (padding, padding, padding, padding))
        oy = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
        ox = torch.randint(0, 2 * padding + 1, (n,), generator=gen)
        rows = (oy[:, None] + torch.arange(h))[:, :, None].to(dev, non_blocking=True)
        cols = (ox[:, None] + torch.arange(w))[:, None, :].to(dev, non_blocking=True)
        x = xp[torch.arange(n, device=dev)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)
    if flip:
        mask = (torch.rand(n, generator=gen) < 0.5).to(dev, non_blocking=True)
        x = torch.where(mask[:, None, None, None], x.flip(-1), x)
    return x


class TrainStep:
    """One training step (forward, loss, backward, optimizer step) that returns ``(images, correct, loss sum)``
    as a float64 tensor on the device, without waiting for the GPU.

    With ``graph=True`` (CUDA only) full batches of ``batch_size`` are replayed from a CUDA graph captured after
    ``warmup`` eager steps (run on a side stream, as capture needs); other batch sizes run eagerly on the graph's
    gradient buffers. If capture fails, the step says so once and stays eager. The optimizer step is always eager.
    ``fast`` (for example ``torch.compile(net)``, the same parameters) runs the full batches instead of ``net``.
    """

    def __init__(self, net: nn.Module, opt: torch.optim.Optimizer, *, batch_size: int, label_smoothing: float = 0.0,
                 graph: bool = False, warmup: int = 3, fast: nn.Module | None = None) -> None:
        self.net, self.opt, self.batch_size, self.smoothing = net, opt, batch_size, label_smoothing
        self.fast = fast if fast is not None else net
        self.graph_wanted = bool(graph)
        self.warmup = warmup
        self.eager_steps = 0
        self.replays = 0  # full batches trained from a captured graph
        self.graph: Any = None
        self.failure = ""
        self._static: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._grad_ptrs: list[int] = []

    @property
    def graphed(self) -> bool:
        """Whether full batches are being replayed from a captured graph."""
        return self.graph is not None

    def _forward_backward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        logits = (self.fast if len(y) == self.batch_size else self.net)(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.smoothing)
        loss.backward()
        with torch.no_grad():
            return torch.stack([torch.full((), float(len(y)), dtype=torch.float64, device=logits.device),
                                (logits.argmax(1) == y).sum().to(torch.float64),
                                loss.detach().to(torch.float64) * len(y)])

    def _eager(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # with a graph, the gradients must stay in its buffers: zero them in place instead of dropping them
        self.opt.zero_grad(set_to_none=self.graph is None)
        stats = self._forward_backward(x, y)
        self.opt.step()
        if self.graph is not None and self._grads() != self._grad_ptrs:
            self.graph = None  # the buffers moved: capture again at the next full batch
        return stats

    def _grads(self) -> list[int]:
        return [p.grad.data_ptr() if p.grad is not None else 0 for g in self.opt.param_groups for p in g["params"]]

    def _capture(self, x: torch.Tensor, y: torch.Tensor) -> None:
        sx, sy = x.clone(), y.clone()
        self.opt.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                stats = self._forward_backward(sx, sy)
        except RuntimeError as e:  # pragma: no cover - needs a GPU
            self.graph_wanted, self.failure = False, f"CUDA graph capture failed, training eagerly: {e}"
            print(self.failure, flush=True)
            self.opt.zero_grad(set_to_none=True)
            return
        self.graph, self._static = graph, (sx, sy, stats)
        self._grad_ptrs = self._grads()

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        full = self.graph_wanted and len(y) == self.batch_size
        if full and self.graph is None and self.eager_steps >= self.warmup:
            self._capture(x, y)  # records the work without doing it: this batch is trained by the first replay
        if full and self.graph is not None:
            sx, sy, stats = self._static
            sx.copy_(x)
            sy.copy_(y)
            self.graph.replay()
            self.replays += 1
            self.opt.step()
            return stats.clone()
        self.eager_steps += 1
        if self.graph_wanted and self.graph is None:
            side = torch.cuda.Stream()  # warm-up before a capture runs on a side stream
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                stats = self._eager(x, y)
            torch.cuda.current_stream().wait_stream(side)
            return stats
        return self._eager(x, y)


def _git_commit() -> str:
    try:
        r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                           cwd=Path(__file__).parent, timeout=5)
        return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def train(run: RunConfig, train_set: Dataset, test_set: Dataset, out_dir: str | Path, *, resume: bool = False,
          device: str = "auto", progress: bool = True, export: str | Path | None = None,
          stop_after_epoch: int | None = None, cuda_graph: bool = True, compile: bool = False) -> dict[str, Any]:
    """Train a BNN; writes ``checkpoint.pt`` after every epoch and ``card.json`` at the end.

    Args:
        run: model arguments, dataset name and recipe.
        train_set, test_set: data (uint8 arrays).
        out_dir: the run folder.
        resume: continue from ``out_dir/checkpoint.pt`` if present.
        device: ``auto``, ``cpu`` or ``cuda``.
        progress: show a tqdm bar with loss, accuracy and images/s.
        export: also save the trained model (safetensors, bit-packed) to this path.
        stop_after_epoch: stop after this many epochs in total (used to test resuming).
        cuda_graph: on a GPU (one process), replay full batches from a CUDA graph (``TrainStep``).
        compile: run full batches through ``torch.compile`` (one process only).

    Returns:
        The model card (also written to ``out_dir/card.json``).
    """
    from tqdm import tqdm

    r = run.recipe
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    if compile and int(os.environ.get("WORLD_SIZE", "1")) > 1:  # before joining the process group
        raise ValueError("compile is for one process; train without it under torchrun")
    rank, world, dist = _init_distributed(dev)
    if dist and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    main_proc = rank == 0
    progress = progress and main_proc
    torch.manual_seed(r.seed)
    # channels-last is oneDNN's fast layout: 1.13-1.36x the images/s in CPU training (benchmarks/bench_train.py);
    # on the GPU the layout is left as it is
    layout = torch.channels_last if dev.type == "cpu" else torch.contiguous_format
    model = build_model(**run.model).to(dev, memory_format=layout)
    net: nn.Module = model
    if dist:
        if dev.type == "cuda":
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        net = nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
    opt_cls = torch.optim.Adam if r.optimizer == "adam" else torch.optim.SGD
    kw: dict[str, Any] = {"lr": r.lr} if r.optimizer == "adam" else {"lr": r.lr, "momentum": r.momentum, "nesterov": True}
    fused = dev.type == "cuda"  # one kernel for the whole update instead of a few per parameter list
    opt = opt_cls(param_groups(model, r.weight_decay), fused=fused, **kw)
    steps_per_epoch = math.ceil(len(train_set) / r.batch_size)
    total = steps_per_epoch * r.epochs
    warmup = int(r.warmup_epochs * steps_per_epoch)
    start_epoch, history, wall = 0, [], 0.0
    ckpt_path = out / "checkpoint.pt"
    if resume and ckpt_path.exists():
        ck = load_checkpoint(ckpt_path)
        if json.loads(ck["run"]) != _run_json(run):
            raise ValueError(f"{ckpt_path} was written for a different configuration; use another folder or no --resume")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        for g in opt.param_groups:  # the checkpoint may come from another device
            g["fused"], g["foreach"] = fused, None
        start_epoch, history, wall = int(ck["epoch"]), json.loads(ck["history"]), float(ck["wall_s"])
    labels_all = torch.as_tensor(np.asarray(train_set.labels))
    # On a GPU the whole uint8 training set lives on the device and batches are cut, normalized and augmented
    # there; on the CPU batches are read from the (memory-mapped) arrays.
    on_gpu = dev.type == "cuda"
    images_dev = torch.from_numpy(np.array(train_set.images, dtype=np.uint8)).to(dev) if on_gpu else None
    labels_dev = labels_all.to(dev)
    last_epoch = r.epochs if stop_after_epoch is None else min(r.epochs, stop_after_epoch)
    step = TrainStep(net, opt, batch_size=r.batch_size, label_smoothing=r.label_smoothing,
                     graph=cuda_graph and on_gpu and not dist, fast=torch.compile(net) if compile else None)
    for epoch in range(start_epoch, last_epoch):
        model.train()
        gen = torch.Generator().manual_seed(r.seed * 100_003 + epoch)
        order = torch.randperm(len(train_set), generator=gen)
        t0 = time.perf_counter()
        # (seen, correct, loss sum) stay on the device and are read every few steps: a read waits for the GPU
        totals = torch.zeros(3, dtype=torch.float64, device=dev)
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{r.epochs}", disable=not progress, leave=False)
        for i in bar:
            idx = order[i * r.batch_size : (i + 1) * r.batch_size]
            idx_dev = idx.to(dev, non_blocking=True)
            if on_gpu:
                x = normalize(images_dev[idx_dev], run.dataset)
            else:
                x = normalize(np.asarray(train_set.images[idx.numpy()]), run.dataset)
            x = augment(x, gen, padding=r.crop_padding, flip=r.flip)  # whole batch: same draws on every process
            y = labels_dev[idx_dev]
            if dist:  # each process takes its share of the batch; DDP averages the gradients
                x, y = x[rank::world], y[rank::world]
            x = x.to(dev, non_blocking=True).contiguous(memory_format=layout)
            for g in opt.param_groups:
                g["lr"] = lr_at(epoch * steps_per_epoch + i, total, warmup, r.lr)
            stats = step(x, y)
            if dist:
                torch.distributed.all_reduce(stats)
            totals += stats
            if progress and (i % 20 == 19 or i == steps_per_epoch - 1):
                seen, correct, loss_sum = totals.tolist()
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}",
                                ips=f"{seen / (time.perf_counter() - t0):.0f}")
        seen, correct, loss_sum = totals.tolist()
        secs = time.perf_counter() - t0
        wall += secs
        test_acc = float((predict(model, test_set.images, run.dataset, device=dev) == np.asarray(test_set.labels)).mean())
        if not main_proc:
            torch.distributed.barrier()
            continue
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                        "test_acc": test_acc, "seconds": secs})
        if progress:
            print(f"epoch {epoch + 1}/{r.epochs}: loss {loss_sum / seen:.4f} train {correct / seen:.4f} "
                  f"test {test_acc:.4f} ({secs:.0f} s)", flush=True)
        save_checkpoint({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                         "history": json.dumps(history), "wall_s": wall, "run": json.dumps(_run_json(run))}, ckpt_path)
        if dist:
            torch.distributed.barrier()
    if not main_proc:
        torch.distributed.destroy_process_group()
        return {}
    card = {
        "model": run.model,
        "dataset": run.dataset,
        "train_split": f"{train_set.split} ({len(train_set)} images from {train_set.source})",
        "test_split": f"{test_set.split} ({len(test_set)} images)",
        "recipe": asdict(r),
        "epochs_done": len(history),
        "history": history,
        "test_accuracy": history[-1]["test_acc"] if history else None,
        "wall_time_s": round(wall, 1),
        "device": _device_name(dev),
        "torch": torch.__version__,
        "processes": world,
        "cuda_graph": step.replays > 0,
        "compiled": compile,
        "commit": _git_commit(),
    }
    text = (json.dumps(card, indent=2) + "\n").encode()
    atomic_write(out / "card.json", lambda fh: fh.write(text), force=True)
    if export is not None and len(history) == r.epochs:
        save_model(model.cpu(), export, metadata={"card": card}, force=True)
    if dist:
        torch.distributed.destroy_process_group()
    return card


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    return f"{dev} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _init_distributed(dev: torch.device) -> tuple[int, int, bool]:
    """Join the process group that ``torchrun`` describes (gloo on CPU, NCCL on GPU); (rank, world, on)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return torch.distributed.get_rank(), world, True


def _run_json(run: RunConfig) -> dict[str, Any]:
    return json.loads(json.dumps({"model": run.model, "dataset": run.dataset, "recipe": asdict(run.recipe)}))
