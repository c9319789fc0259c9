#!/usr/bin/env python3
"""The CIFAR ResNets (He et al. 2016, section 4.2) with btviz's weight quantizers, in PyTorch: the reference btviz's
ResNet (Sources/Models/ResNet.swift) is checked against.

  ResNet-(6n+2): conv3x3(16) + BN + ReLU, three stages of n basic blocks at 16, 32 and 64 channels (the second and
  third halve the map in their first block: a stride-2 conv and option A's shortcut, x[:, :, ::2, ::2] zero-padded
  with planes/4 channels on each side), global average pool, Linear(64, classes). Module names are
  akamaster/pytorch_resnet_cifar10's (conv1, bn1, layer1.0.conv1, ..., linear). Every 3x3 conv but the first goes
  through the quantizer (straight-through, as vgg6.py's QConv2d); the first conv and the linear layer stay float32.

Modes (the first argument):

  python resnet.py train --data ../../../shared/data/cifar10-subset --depth 20 --method bt --seed 0 --epochs 30 \
      --threads 2 --out results/bt-s0.json
    trains on btviz's recipe (docs/protocols.md, as Sources/Datasets and Sources/Training do it): CIFAR-10's binary
    files (every data_batch_*.bin present, test_batch.bin), pixels / 255 standardized per channel over the training
    set; per batch a random shift of up to 4 px with the raw image's zero padding, an 8x8 cutout (centre uniform,
    clipped) set to 0 = the normalized mean, a flip with p 1/2; a new order every epoch, the last partial batch a
    step of its own; Adam (0.9, 0.999, 1e-8, no weight decay), peak lr 2e-3 with cosine decay to 0 per step, batch
    128; PyTorch's default initialization; BN momentum 0.1, eps 1e-5; methods full, bwn, twn, ttq, lq (2 bits), bt;
    the transition regularizer at btviz's λ for the method (--lambda to change it); first conv and FC float32.
    After each epoch the whole test set in eval mode. Writes JSON (atomically, after every epoch): model, method,
    seed, epochs, lambda, torch, threads, epochs_log [{epoch, train_loss, train_accuracy, test_loss, test_accuracy,
    seconds}] (accuracies in %, losses mean cross-entropy), test_accuracy, test_loss. If --out already holds this
    configuration with every epoch, prints it and trains nothing; an unfinished file is trained again from scratch.
    Seeds: torch.manual_seed(seed) for the weights, numpy's Generator(seed) for order and augmentation.
    Not btviz's exactly: the random draws (btviz's own RNG streams per epoch and step, one image's shift, cutout
    and flip drawn together; here numpy's, each kind for the whole batch at once: the same distributions, other
    numbers) and the initial weights (the same distribution); float summation orders (oneDNN against btviz's
    kernels); LQ's 2x2 solve is torch.linalg.solve (LU with partial pivoting) in double, btviz's its own Gaussian
    elimination in double.

  python resnet.py bench --depth 20 --input 3x32x32 --method bt --batch 128 --threads 2 --mode train --json
    vgg6.py's benchmark (the same options but --k, --check and --profile, the same timing code, the keys of `btviz
    bench --model resnet --json`): random data, inference with the quantized weights frozen; with --lambda > 0 the
    regularizer's gradient (no R measured, as `btviz bench`).

  python resnet.py selftest
    TTQ and LQ-Nets against btviz's hand-worked cases (Tests/QuantizersTests/TrainedQuantizerTests.swift), the
    regularizer gradient by hand, the batch augmentation against btviz's Augmenter pixel by pixel.

  python resnet.py crosscheck --btviz ../../.build/release/btviz --data ../../../shared/data/cifar10-subset
    one training step of ResNet-20 under TTQ and under LQ-Nets here and in btviz (`train --init-from` this script's
    initial weights, the first 128 training images as one batch, no augmentation, λ 0; then `export --format
    safetensors`): the loss, the quantizer's state after the step (TTQ's Wp, Wn after Adam; LQ-Nets' levels after
    the basis update), the latent weights after Adam and Q(W) must agree (exit 1 if not). Seconds; a temp folder.

  python resnet.py gradcheck --btviz ../../.build/release/btviz --data ../../../shared/data/cifar10-subset --run RUN
    the gradient btviz steps with against PyTorch's at a trained btviz run's weights, per quantized conv: how many
    weights get another code in each tool (weights within an ulp of a threshold), the task gradient with each tool's
    own Q(W) and with btviz's Q(W) in PyTorch (exit 1 if these disagree beyond 1e-2), on how many weights the
    regularizer's pull differs, and how many lie within 4 float steps of a threshold.

  python resnet.py --fixtures ../../Tests/Fixtures/pytorch-resnet --data ../../../shared/data/cifar10-subset
    writes what Tests/TrainingTests/ResNetPyTorchTests.swift compares btviz against: ResNet-8 with PyTorch's default
    initialization (torch.manual_seed(0)), the first BATCH CIFAR-10 training images normalized per channel over the
    training file, and for full and BT: training-mode logits, mean cross-entropy, every gradient, and the batch
    norms' running statistics after that forward pass, all in btviz's names and layouts (NHWC: conv weights
    [out, 3, 3, in]).
"""

import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import vgg6
from vgg6 import METHODS as STATIC_METHODS
from vgg6 import fit, transition_pull

DEPTH, BATCH = 8, 16
METHODS = ("full", "bwn", "twn", "ttq", "lq", "bt")
# btviz's default λ per method (docs/methods.md, "λ: defaults"; each QuantizerDefinition's defaultLambda).
DEFAULT_LAMBDA = {"full": 3e-4, "bwn": 1e-4, "twn": 3e-4, "bt": 3e-4, "lq": 3e-4, "ttq": 0.0}


# ---------------------------------------------------------------------------------------------------------------
# The trained quantizers (Sources/Quantizers/TTQ.swift, LQNets.swift). BWN, TWN and BT are vgg6.py's `fit`.
# Each returns Q(w) with the gradient btviz gives the latent weights, and keeps its fit as `last_fit` (transitions,
# step_heights(), first_scale) for the transition regularizer.
# ---------------------------------------------------------------------------------------------------------------

class TableFit:
    """A fitted quantizer as btviz's QuantFit sees it for the regularizer: transitions [C, T] with the jump of Q at
    each (C = 1: one table for the tensor), and the noise unit (mean |W| for TTQ and LQ-Nets)."""

    def __init__(self, transitions, heights, first_scale):
        self.transitions, self.heights, self.first_scale = transitions, heights, first_scale

    def step_heights(self):
        return self.heights


class _TTQFunction(torch.autograd.Function):
    """Q = +Wp where W > Δ, -Wn where W < -Δ, 0 between. Backward with g = dL/dQ: the latent weight gets Wp*g above
    Δ, g between, Wn*g below -Δ; dL/dWp = Σ g over W > Δ, dL/dWn = -Σ g over W < -Δ (sums in double, as btviz)."""

    @staticmethod
    def forward(ctx, w, wp, wn, delta):
        pos, neg = w > delta, w < -delta
        ctx.save_for_backward(pos, neg, wp, wn)
        zero = w.new_zeros(())
        return torch.where(pos, wp, torch.where(neg, -wn, zero))

    @staticmethod
    def backward(ctx, g):
        pos, neg, wp, wn = ctx.saved_tensors
        gw = torch.where(pos, g * wp, torch.where(neg, g * wn, g))
        zero = g.new_zeros(())
        gwp = torch.where(pos, g, zero).sum(dtype=torch.float64).to(g.dtype).reshape(1)
        gwn = -torch.where(neg, g, zero).sum(dtype=torch.float64).to(g.dtype).reshape(1)
        return gw, gwp, gwn, None


class TTQ(nn.Module):
    """TTQ (Zhu et al. 2016) as btviz's: Δ = t * max|W|, Wp = Wn = 1.0 at the start (training does not calibrate
    them), trained by the run's Adam at the run's learning rate."""

    def __init__(self, t=0.05):
        super().__init__()
        self.t = t
        self.wp = nn.Parameter(torch.ones(1))
        self.wn = nn.Parameter(torch.ones(1))
        self.last_fit = None

    def forward(self, w):
        with torch.no_grad():
            d = self.t * w.abs().max()
            # btviz's transitions are -Δ and Δ.nextUp (W > Δ is strict); the jumps there are Wn and Wp.
            ts = torch.stack([-d, torch.nextafter(d, d.new_tensor(math.inf))]).reshape(1, 2)
            hs = torch.cat([self.wn.detach(), self.wp.detach()]).abs().reshape(1, 2)
            self.last_fit = TableFit(ts, hs, w.abs().mean(dtype=torch.float64).float())
        return _TTQFunction.apply(w, self.wp, self.wn, d)


class LQ(nn.Module):
    """LQ-Nets' weight quantizer (Zhang et al. 2018) as btviz's: per output channel a basis v of `bits` values; the
    levels b^T v for b in {-1, +1}^bits, sorted; each weight takes level j = the count of the channel's transitions
    (midpoints of adjacent levels) at or below it. Identity straight-through gradient. Every training forward pass
    then updates the basis from this pass's codes (btviz does it after backward, before Adam, from the same fit and
    weights): v* = (B^T B + δI)^-1 (B^T w + δ v), δ = 1e-4, in double; v = the zero-debiased moving average
    (decay 0.9) of v*. Start: v_j = 2^j * 0.6745 * sqrt(2 / (9 Cout)) / 2^(bits-1)."""

    DELTA, DECAY = 1e-4, 0.9

    def __init__(self, out_channels, bits=2):
        super().__init__()
        self.bits = bits
        base = 0.6745 * math.sqrt(2 / (9 * out_channels)) / (1 << (bits - 1))
        start = torch.tensor([[float((1 << j) * base) for j in range(bits)]] * out_channels, dtype=torch.float32)
        self.register_buffer("basis", start)
        self.register_buffer("basis_ema", torch.zeros(out_channels, bits))
        self.register_buffer("basis_steps", torch.zeros(1))
        codes = torch.arange(1 << bits)
        # Code i's bit j is +1 where (i >> j) & 1, else -1 (btviz's and the reference's order).
        self.register_buffer("code_bits", (((codes[:, None] >> torch.arange(bits)) & 1) * 2 - 1).double(),
                             persistent=False)
        self.last_fit = None

    def table(self):
        """Each channel's levels, ascending, the codes they come from, and the transitions between them."""
        levels = (self.basis.double() @ self.code_bits.T).float()  # [C, 2^bits], summed in double as btviz
        levels, order = levels.sort(dim=1, stable=True)
        transitions = 0.5 * (levels[:, :-1] + levels[:, 1:])
        return levels, order, transitions

    def forward(self, w):
        with torch.no_grad():
            levels, order, ts = self.table()
            wc = w.detach().reshape(levels.shape[0], -1)
            idx = (wc.unsqueeze(2) >= ts.unsqueeze(1)).sum(dim=2)
            q = levels.gather(1, idx).reshape(w.shape)
            self.last_fit = TableFit(ts, (levels[:, 1:] - levels[:, :-1]).abs(), w.abs().mean(dtype=torch.float64).float())
            if self.training:
                self.update(wc, idx, order)
        return w + (q - w).detach()

    @torch.no_grad()
    def solve(self, wc, idx, order):
        """The least-squares basis for these codes, per channel (btviz's `solve`)."""
        c, n_levels = idx.shape[0], order.shape[1]
        counts = torch.zeros(c, n_levels, dtype=torch.float64).scatter_add_(1, idx, torch.ones_like(wc, dtype=torch.float64))
        sums = torch.zeros(c, n_levels, dtype=torch.float64).scatter_add_(1, idx, wc.double())
        bits = self.code_bits[order]  # [C, levels, bits]: the bits of each sorted level's code
        a = torch.einsum("cl,clp,clq->cpq", counts, bits, bits) + self.DELTA * torch.eye(self.bits, dtype=torch.float64)
        b = torch.einsum("cl,clp->cp", sums, bits) + self.DELTA * self.basis.double()
        return torch.linalg.solve(a, b).float()

    @torch.no_grad()
    def update(self, wc, idx, order):
        target = self.solve(wc, idx, order)
        self.basis_ema -= (self.basis_ema - target) * np.float32(1 - self.DECAY)
        self.basis_steps += 1
        debias = np.float32(1 - self.DECAY ** int(self.basis_steps.item()))
        self.basis.copy_(self.basis_ema / debias)


class StaticQuantizer(nn.Module):
    """BWN, TWN, BT: vgg6.py's fit under no_grad, identity straight-through gradient."""

    def __init__(self, method):
        super().__init__()
        self.method = method
        self.last_fit = None

    def forward(self, w):
        f = fit(self.method, w)
        self.last_fit = f
        with torch.no_grad():
            q = f.quantize(w)
        return w + (q - w).detach()


def make_quantizer(method, out_channels):
    if method == "full":
        return None
    if method == "ttq":
        return TTQ()
    if method == "lq":
        return LQ(out_channels)
    if method in STATIC_METHODS:
        return StaticQuantizer(method)
    raise ValueError(f"unknown method {method!r}")


class QConv(nn.Conv2d):
    """3x3 conv, padding 1, no bias, stride 1 or 2, its weight quantized in the forward pass (straight-through)."""

    def __init__(self, cin, cout, stride, method):
        super().__init__(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.method = method
        self.quantizer = make_quantizer(method, cout)
        self.frozen = None  # Q(w) fixed for timing inference (btviz quantizes once before it times)

    def forward(self, x):
        if self.frozen is not None:
            return self._conv_forward(x, self.frozen, None)
        if self.quantizer is None:
            return self._conv_forward(x, self.weight, None)
        wq = self.quantizer(self.weight)
        if wq.stride() != self.weight.stride():  # keep the parameter's layout (channels_last), as vgg6.py's QConv2d
            wq = torch.empty_like(self.weight).copy_(wq)
        return self._conv_forward(x, wq, None)

    @property
    def last_fit(self):
        return None if self.quantizer is None else self.quantizer.last_fit

    @torch.no_grad()
    def freeze(self):
        w = self.weight if self.quantizer is None else self.quantizer(self.weight)
        self.frozen = torch.empty_like(self.weight).copy_(w)


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride, method):
        super().__init__()
        self.conv1 = QConv(cin, planes, stride, method)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = QConv(planes, planes, 1, method)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or cin != planes else None

    def shortcut(self, x):
        if self.pad is None:
            return x
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, depth=20, classes=10, method="bt", in_channels=3):
        super().__init__()
        assert (depth - 2) % 6 == 0
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        c = 16
        stages = []
        for i, planes in enumerate((16, 32, 64)):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(c, planes, 2 if i > 0 and j == 0 else 1, method))
                c = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, classes)
        self.convs = [m for m in self.modules() if isinstance(m, QConv)]  # the quantized ones, in order

    def forward_macs(self, height, width):
        """Multiply-accumulates of one forward pass of one sample (btviz's convention: convs and the FC)."""
        macs, h, w = 0, height, width
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                h, w = (h - 1) // m.stride[0] + 1, (w - 1) // m.stride[1] + 1
                macs += h * w * m.out_channels * 9 * m.in_channels
        return macs + self.linear.in_features * self.linear.out_features

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def btviz_name(torch_name):
    """A state_dict name in btviz's naming: conv weights by their module ("layer1.0.conv1"), batch norm's weight and
    bias as gamma and beta."""
    module, _, leaf = torch_name.rpartition(".")
    if module.split(".")[-1].startswith("conv"):
        return module
    if module.split(".")[-1].startswith("bn"):
        return module + "." + {"weight": "gamma", "bias": "beta"}.get(leaf, leaf)
    return torch_name


def btviz_tensors(model, grads=False):
    out = {}
    source = model.named_parameters() if grads else model.state_dict().items()
    for name, t in source:
        if name.endswith("num_batches_tracked"):
            continue
        t = (t.grad if grads else t).detach()
        if t.dim() == 4:
            t = t.permute(0, 2, 3, 1)
        out[btviz_name(name)] = t
    return out


def load_batch(data_dir):
    """The first BATCH images of data_batch_1.bin, each channel standardized over the whole file (btviz's
    Normalizer: population std over every pixel of the channel)."""
    raw = np.fromfile(os.path.join(data_dir, "data_batch_1.bin"), dtype=np.uint8).reshape(-1, 3073)
    labels, images = raw[:, 0].astype(np.int64), raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float64) / 255
    mean = images.mean(axis=(0, 2, 3), keepdims=True)
    std = images.std(axis=(0, 2, 3), keepdims=True)
    x = ((images[:BATCH] - mean) / std).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(labels[:BATCH])


def save(folder, tensors):
    os.makedirs(folder, exist_ok=True)
    for name, t in tensors.items():
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(t.numpy(), dtype=np.float32))


def fixtures(args):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if os.path.isdir(args.fixtures):
        shutil.rmtree(args.fixtures)
    x, y = load_batch(args.data)
    save(os.path.join(args.fixtures, "batch"), {"x": x.permute(0, 2, 3, 1), "labels": y.to(torch.float32)})
    torch.manual_seed(0)
    initial = ResNet(DEPTH, 10, "full").state_dict()
    save(os.path.join(args.fixtures, "init"), btviz_tensors(_model(initial, "full")))
    for method in ("full", "bt"):
        model = _model(initial, method)
        model.train()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        folder = os.path.join(args.fixtures, method)
        save(folder, {"logits": logits.detach(), "loss": loss.detach().reshape(1)})
        save(os.path.join(folder, "grad"), btviz_tensors(model, grads=True))
        save(os.path.join(folder, "after"), {k: v for k, v in btviz_tensors(model).items() if "running" in k})
    print(f"wrote {args.fixtures}: ResNet-{DEPTH}, batch {BATCH}, torch {torch.__version__}")


def _model(state, method):
    m = ResNet(DEPTH, 10, method)
    m.load_state_dict(state)
    return m


# ---------------------------------------------------------------------------------------------------------------
# train: btviz's recipe (docs/protocols.md; Sources/Datasets, Sources/Training)
# ---------------------------------------------------------------------------------------------------------------

def read_cifar(data_dir):
    """Training images (every data_batch_1..5.bin present, in that order) and the test images, as float32 NCHW in
    [0, 1] (btviz: byte * (1/255) in Float), with int64 labels."""
    def read(names):
        raw = np.concatenate([np.fromfile(os.path.join(data_dir, n), dtype=np.uint8).reshape(-1, 3073) for n in names])
        images = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) * np.float32(1 / 255)
        return images, raw[:, 0].astype(np.int64)
    train = [f"data_batch_{i}.bin" for i in range(1, 6) if os.path.exists(os.path.join(data_dir, f"data_batch_{i}.bin"))]
    if not train or not os.path.exists(os.path.join(data_dir, "test_batch.bin")):
        sys.exit(f"resnet.py: {data_dir} needs data_batch_*.bin and test_batch.bin (CIFAR-10's binary version)")
    return read(train), read(["test_batch.bin"])


def standardize(train, test):
    """btviz's Normalizer: per channel mean and population std over every training pixel (summed in double,
    stored as Float), applied as (x - mean) * (1 / std) to both sets. Returns mean and std."""
    x = train.astype(np.float64)
    n = x.shape[0] * x.shape[2] * x.shape[3]
    s, q = x.sum(axis=(0, 2, 3)), (x * x).sum(axis=(0, 2, 3))
    mean = (s / n).astype(np.float32)
    std = np.sqrt(np.maximum(q / n - (s / n) ** 2, 0))
    std = np.where(std < 1e-6, 1, std).astype(np.float32)
    scale = (np.float32(1) / std).reshape(1, 3, 1, 1)
    for a in (train, test):
        a -= mean.reshape(1, 3, 1, 1)
        a *= scale
    return mean, std


def augment(x, rng, fill, pad=4, cutout=8):
    """btviz's Augmenter on a normalized batch [N, C, H, W]: a shift by dy, dx uniform in [-pad, pad] (dst(y, x) =
    src(y + dy, x + dx), pixels from outside the image are `fill`, i.e. zero padding of the raw image); an
    8x8 cutout centred at (cy, cx) uniform over the image, rows cy-4 .. cy+3 clipped at the border, set to 0
    (the normalized mean); a horizontal flip with probability 1/2."""
    n, c, h, w = x.shape
    padded = np.empty((n, c, h + 2 * pad, w + 2 * pad), dtype=np.float32)
    padded[:] = fill.reshape(1, c, 1, 1)
    padded[:, :, pad:pad + h, pad:pad + w] = x
    dy, dx = rng.integers(-pad, pad + 1, size=n), rng.integers(-pad, pad + 1, size=n)
    rows = (np.arange(h)[None, :] + dy[:, None] + pad)[:, None, :, None]
    cols = (np.arange(w)[None, :] + dx[:, None] + pad)[:, None, None, :]
    out = padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]
    cy, cx = rng.integers(0, h, size=n), rng.integers(0, w, size=n)
    ys, xs = np.arange(h)[None, :], np.arange(w)[None, :]
    in_y = (ys >= cy[:, None] - cutout // 2) & (ys < cy[:, None] - cutout // 2 + cutout)
    in_x = (xs >= cx[:, None] - cutout // 2) & (xs < cx[:, None] - cutout // 2 + cutout)
    out[(in_y[:, :, None] & in_x[:, None, :])[:, None, :, :].repeat(c, axis=1)] = 0
    flip = rng.integers(0, 2, size=n) == 1
    out[flip] = out[flip][..., ::-1]
    return out


def cosine_lr(base, step, total):
    """btviz's cosineLearningRate, in Float: base * 0.5 * (1 + cos(pi * min(step, total) / total))."""
    f = np.float32
    return float(f(base) * f(0.5) * (f(1) + np.cos(f(np.pi) * f(min(step, total)) / f(total), dtype=np.float32)))


@torch.no_grad()
def add_regularizer_gradient(model, lam, noise_ratio=0.1):
    """btviz's transition-regularizer gradient for every quantized conv, from the fit of this step's forward pass,
    added after backward (and so after TTQ's scaling of the latent gradient), before Adam."""
    for conv in model.convs:
        f = conv.last_fit
        if f is not None and float(f.first_scale) > 0:
            conv.weight.grad.add_(transition_pull(conv.weight, f.transitions, f.step_heights(), f.first_scale, lam,
                                                  noise_ratio))


@torch.no_grad()
def evaluate(model, x, y, batch=500, memory_format=torch.channels_last):
    """Test accuracy (%) and mean cross-entropy over the whole set, eval mode (running BN statistics)."""
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), batch):
        xb = torch.from_numpy(x[i:i + batch]).contiguous(memory_format=memory_format)
        yb = torch.from_numpy(y[i:i + batch])
        out = model(xb)
        loss += F.cross_entropy(out, yb, reduction="sum").item()
        correct += (out.argmax(1) == yb).sum().item()
    return 100 * correct / len(x), loss / len(x)


def write_atomic(path, obj):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def finished(path, args):
    """The output of an earlier run of this configuration with every epoch, else None. A complete file of another
    configuration is an error (it is not this run's to replace)."""
    try:
        with open(path) as f:
            old = json.load(f)
    except (OSError, ValueError):
        return None
    if len(old.get("epochs_log", [])) < old.get("epochs", 0) or not old.get("epochs_log"):
        return None
    want = {"model": f"resnet{args.depth}", "method": args.method, "seed": args.seed, "epochs": args.epochs,
            "lambda": args.lam}
    if any(old.get(k) != v for k, v in want.items()):
        sys.exit(f"resnet.py: {path} holds a finished run of another configuration "
                 f"({', '.join(f'{k} {old.get(k)}' for k in want)}); not replacing it")
    return old


def train(args):
    if args.lam is None:
        args.lam = DEFAULT_LAMBDA[args.method]
    done = finished(args.out, args)
    if done is not None:
        print(json.dumps(done, indent=1))
        return
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xte, yte) = read_cifar(args.data)
    mean, std = standardize(xtr, xte)
    fill = (-mean / std).astype(np.float32)  # a crop's padding: what a raw 0 pixel becomes
    torch.manual_seed(args.seed)
    rng = np.random.Generator(np.random.PCG64(args.seed))
    model = ResNet(args.depth, 10, args.method).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                           foreach=True)
    n = len(xtr)
    steps_per_epoch = (n + args.batch - 1) // args.batch  # the last, partial batch is a step of its own
    total = args.epochs * steps_per_epoch
    regularized = args.method != "full" and args.lam > 0
    out = {"model": f"resnet{args.depth}", "method": args.method, "seed": args.seed, "epochs": args.epochs,
           "lambda": args.lam, "torch": torch.__version__, "threads": args.threads, "batch": args.batch,
           "lr": args.lr, "train_images": n, "test_images": len(xte), "epochs_log": []}
    step = 0
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        order = rng.permutation(n)
        seen, correct, loss_sum = 0, 0, 0.0
        for i in range(steps_per_epoch):
            idx = order[i * args.batch:(i + 1) * args.batch]
            xb = torch.from_numpy(augment(xtr[idx], rng, fill)).contiguous(memory_format=torch.channels_last)
            yb = torch.from_numpy(ytr[idx])
            for g in opt.param_groups:
                g["lr"] = cosine_lr(args.lr, step, total)
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            if regularized:
                add_regularizer_gradient(model, args.lam)
            opt.step()
            step += 1
            seen += len(idx)
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
            if not math.isfinite(loss.item()):
                sys.exit(f"resnet.py: loss became {loss.item()} at step {step - 1}; stopped")
        acc, test_loss = evaluate(model, xte, yte)
        record = {"epoch": epoch, "train_loss": loss_sum / seen, "train_accuracy": 100 * correct / seen,
                  "test_loss": test_loss, "test_accuracy": acc, "seconds": round(time.perf_counter() - t0, 1)}
        out["epochs_log"].append(record)
        out["test_accuracy"], out["test_loss"] = acc, test_loss
        write_atomic(args.out, out)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {record['train_loss']:.4f} acc {record['train_accuracy']:.2f}%"
              f"  test loss {test_loss:.4f} acc {acc:.2f}%  ({record['seconds']:.0f} s)", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# selftest: TTQ and LQ-Nets against btviz's own hand-worked cases (Tests/QuantizersTests/TrainedQuantizerTests)
# ---------------------------------------------------------------------------------------------------------------

def selftest(_args):
    def close(a, b, tol=1e-6):
        a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
        assert a.shape == b.shape and (a - b).abs().max() <= tol, f"{a.tolist()} != {b.tolist()}"

    w0 = torch.tensor([0.5, -0.2, 0.1, -0.8, 0.0, 0.3])
    # TTQ, testTTQHandWorked: Δ = 0.05 * 0.8 = 0.04; with Wp = 0.3, Wn = 0.5, Q = [0.3, -0.5, 0.3, -0.5, 0, 0.3];
    # g = 1..6 gives the latent gradient [0.3, 1, 0.9, 2, 5, 1.8], dWp = 10, dWn = -6; jumps [Wn, Wp] at ±Δ.
    ttq = TTQ()
    assert ttq.wp.item() == 1 and ttq.wn.item() == 1  # the reference's start
    with torch.no_grad():
        ttq.wp.fill_(0.3)
        ttq.wn.fill_(0.5)
    w = w0.clone().requires_grad_()
    q = ttq(w)
    close(q.detach(), [0.3, -0.5, 0.3, -0.5, 0, 0.3])
    close(ttq.last_fit.transitions, [[-0.04, 0.04]], 1e-7)
    close(ttq.last_fit.heights, [[0.5, 0.3]])
    close(ttq(torch.tensor([0.04, -0.04, 0.8])).detach(), [0, 0, 0.3])  # W > Δ and W < -Δ are strict
    (q * torch.arange(1.0, 7.0)).sum().backward()
    close(w.grad, [0.3, 1.0, 0.9, 2.0, 5, 1.8])
    close(ttq.wp.grad, [10])
    close(ttq.wn.grad, [-6])
    # LQ, testLQReferenceInitializationAndLevels: one output channel, v = [b, 2b], b = 0.6745 sqrt(2/9) / 2;
    # levels -3b, -b, b, 3b; transitions -2b, 0, 2b; Q(w) = [3b, -b, b, -3b, b, b] (ties go up).
    lq = LQ(1).eval()
    b = 0.6745 * math.sqrt(2 / 9) / 2
    close(lq.basis, [[b, 2 * b]])
    levels, _, ts = lq.table()
    close(levels, [[-3 * b, -b, b, 3 * b]])
    close(ts, [[-2 * b, 0, 2 * b]])
    close(lq(w0).detach(), [3 * b, -b, b, -3 * b, b, b])
    # testLQLeastSquaresStepMatchesDirectSolve: the solve against brute-force nearest codes and the 2x2 inverse.
    g = torch.Generator().manual_seed(5)
    channels, per = 3, 144
    wc = torch.randn(channels, per, generator=g) * 0.05
    lq = LQ(channels).train()
    levels, order, ts = lq.table()
    idx = (wc.unsqueeze(2) >= ts.unsqueeze(1)).sum(dim=2)
    solved = lq.solve(wc, idx, order)
    for c in range(channels):
        v = lq.basis[c].double()
        codes = torch.tensor([[b0, b1] for b0 in (-1.0, 1.0) for b1 in (-1.0, 1.0)], dtype=torch.float64)
        nearest = codes[((wc[c].double()[:, None] - codes @ v) .abs()).argmin(1)]
        a = nearest.T @ nearest + 1e-4 * torch.eye(2, dtype=torch.float64)
        rhs = nearest.T @ wc[c].double() + 1e-4 * v
        det = a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0]
        close(solved[c], [(a[1, 1] * rhs[0] - a[0, 1] * rhs[1]) / det, (a[0, 0] * rhs[1] - a[1, 0] * rhs[0]) / det])
    # testLQMovingAverageIsZeroDebiased: after one update the basis is v1*, after two (0.09 v1* + 0.1 v2*) / 0.19;
    # the forward pass in training mode is what updates it, with this pass's codes.
    wc = torch.randn(2, 144, generator=g) * 0.05
    lq = LQ(2).train()
    levels, order, ts = lq.table()
    v1 = lq.solve(wc, (wc.unsqueeze(2) >= ts.unsqueeze(1)).sum(dim=2), order)
    lq(wc)
    close(lq.basis, v1)
    wc = wc * 1.5
    levels, order, ts = lq.table()
    v2 = lq.solve(wc, (wc.unsqueeze(2) >= ts.unsqueeze(1)).sum(dim=2), order)
    lq(wc)
    close(lq.basis, (0.09 * v1 + 0.1 * v2) / 0.19)
    lq.eval()
    before = lq.basis.clone()
    lq(wc)
    close(lq.basis, before, 0)  # evaluation never updates
    # LQ's regularizer table at the start: transitions -2b, 0, 2b, each a jump of 2b.
    lq = LQ(1).eval()
    lq(w0)
    close(lq.last_fit.transitions, [[-2 * b, 0, 2 * b]])
    close(lq.last_fit.heights, [[2 * b, 2 * b, 2 * b]])
    # The regularizer gradient against the formula by hand, per weight and transition (vgg6.transition_pull).
    wt = torch.tensor([[0.1, -0.05], [0.02, 0.3]])
    ts2, hs2 = torch.tensor([[0.0, 0.1], [0.01, 0.2]]), torch.tensor([[0.5, 1.0], [2.0, 0.25]])
    got = transition_pull(wt, ts2, hs2, 0.2, 0.1)
    sp = 0.02
    want = [[sum(0.1 * h * 0.39894228 / sp * math.exp(-0.5 * ((x - t) / sp) ** 2) * (1 if x >= t else -1)
                 * (abs(x - t) < 8 * sp) for t, h in zip(ts2[c].tolist(), hs2[c].tolist())) for x in wt[c].tolist()]
            for c in range(2)]
    close(got, want, 1e-4)
    # The batch augmentation against btviz's Augmenter written out pixel by pixel, from the same draws.
    x = np.random.default_rng(0).standard_normal((6, 3, 32, 32)).astype(np.float32)
    fill = np.array([-1.5, -2.5, -3.5], dtype=np.float32)
    out = augment(x.copy(), np.random.Generator(np.random.PCG64(1)), fill)
    r = np.random.Generator(np.random.PCG64(1))
    dy, dx, cy, cx, flip = (r.integers(-4, 5, 6), r.integers(-4, 5, 6), r.integers(0, 32, 6), r.integers(0, 32, 6),
                            r.integers(0, 2, 6))
    for i in range(6):
        img = np.empty_like(x[i])
        for y in range(32):
            for xx in range(32):
                sy, sx = y + dy[i], xx + dx[i]
                img[:, y, xx] = x[i, :, sy, sx] if 0 <= sy < 32 and 0 <= sx < 32 else fill
        img[:, max(cy[i] - 4, 0):min(cy[i] + 4, 32), max(cx[i] - 4, 0):min(cx[i] + 4, 32)] = 0
        if flip[i] == 1:
            img = img[:, :, ::-1]
        assert np.array_equal(out[i], img), f"augmentation of image {i} differs"
    print("selftest passed: TTQ (forward, strict thresholds, latent/Wp/Wn gradients, jumps), LQ-Nets (start, levels, "
          "transitions, least-squares solve, debiased moving average, no update in eval), the regularizer gradient, "
          "the augmentation")


# ---------------------------------------------------------------------------------------------------------------
# crosscheck: one training step of TTQ and LQ-Nets here and in a btviz binary, from the same weights and batch
# ---------------------------------------------------------------------------------------------------------------

def write_safetensors(path, tensors):
    """A float32 safetensors file (the format is a little-endian u64 header size, a JSON header, the data)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().numpy(), dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def read_safetensors(path):
    """{name: numpy array} of the float32 tensors of a safetensors file, and its metadata."""
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    out = {}
    for name, h in header.items():
        if name != "__metadata__" and h["dtype"] == "F32":
            a, b = h["data_offsets"]
            out[name] = np.frombuffer(data[8 + n + a:8 + n + b], dtype=np.float32).reshape(h["shape"])
    return out, header.get("__metadata__", {})


def crosscheck(args):
    """Trains one step of ResNet-20 under TTQ and under LQ-Nets with `args.btviz` (`--init-from` this script's
    initial weights, the first BATCH training images as one batch, no augmentation, λ 0, so the step sees the same
    numbers on both sides), exports it as safetensors and compares: the loss, the quantizer's state after the step
    (TTQ's -Wn, 0, Wp after Adam; LQ-Nets' levels after the basis update), the latent weights after Adam, and Q(W)."""
    import subprocess
    import tempfile
    n_images = 128
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="resnet-crosscheck-")
    torch.manual_seed(0)
    initial = {k: v for k, v in ResNet(20, 10, "full").state_dict().items() if not k.endswith("num_batches_tracked")}
    write_safetensors(os.path.join(work, "init.safetensors"), initial)
    (xtr, ytr), _ = read_cifar(args.data)
    x, y = xtr[:n_images].copy(), ytr[:n_images]
    mean, std = standardize(x, x[:0])  # btviz's --train-limit fits the normalization on the images it keeps
    ok = True
    for method in ("ttq", "lq"):
        run = os.path.join(work, f"run-{method}")
        subprocess.run([args.btviz, "train", "--dataset", "cifar10", "--data-dir", args.data, "--model", "resnet",
                        "--depth", "20", "--method", method, "--init-from", os.path.join(work, "init.safetensors"),
                        "--train-limit", str(n_images), "--test-limit", str(n_images), "--batch-size", str(n_images),
                        "--epochs", "1", "--no-crop", "--no-cutout", "--no-flip", "--lambda", "0",
                        "--threads", str(args.threads), "--run-dir", run], check=True, capture_output=True)
        exported = os.path.join(work, f"{method}.safetensors")
        subprocess.run([args.btviz, "export", run, "--format", "safetensors", "--out", exported], check=True,
                       capture_output=True)
        theirs, meta = read_safetensors(exported)
        their_norm = [float(v) for k in ("normalizer_mean", "normalizer_std") for v in meta[k].split(",")]
        norm_err = max(abs(a - b) / b for a, b in zip(their_norm, [*mean.tolist(), *std.tolist()]))
        with open(os.path.join(run, "metrics.jsonl")) as f:
            their_loss = [r["task_loss"] for r in map(json.loads, f) if r.get("type") == "step" and r["step"] == 1][0]
        model = ResNet(20, 10, method)
        model.load_state_dict(initial, strict=False)  # the quantizers keep their own start
        lr = cosine_lr(2e-3, 0, 1)
        opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
        model.train()
        loss = F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        opt.step()
        model.eval()
        state_err, w_same, q_same, q_total = 0.0, 0, 0, 0
        for name, conv in model.named_modules():
            if not isinstance(conv, QConv):
                continue
            if method == "ttq":
                mine = torch.cat([-conv.quantizer.wn, torch.zeros(1), conv.quantizer.wp]).detach().reshape(1, 3)
            else:
                mine = conv.quantizer.table()[0]
            ref = torch.from_numpy(theirs[f"btviz.{name}.weight.levels"].copy())
            state_err = max(state_err, ((mine - ref).abs().max() / ref.abs().max()).item())
            w = conv.weight.detach()
            moved = (w - torch.from_numpy(theirs[f"{name}.weight"].copy())).abs()
            w_same += (moved <= 1e-3 * lr).sum().item()
            with torch.no_grad():
                q = conv.quantizer(conv.weight)
            their_q = torch.from_numpy(theirs[f"btviz.{name}.weight.q"].copy())
            # Within rounding: the straight-through w + (Q - w) gives Q to an ulp of w.
            q_same += ((q - their_q).abs() <= 1e-6 * their_q.abs().max()).sum().item()
            q_total += q.numel()
        loss_err = abs(loss.item() - their_loss) / their_loss
        passed = norm_err < 1e-6 and loss_err < 1e-5 and state_err < 1e-5 and w_same > 0.99 * q_total and q_same > 0.99 * q_total
        ok = ok and passed
        print(f"{method}: input normalization (mean, std per channel) within {norm_err:.1e} of btviz's; "
              f"loss {loss.item():.7f} btviz {their_loss:.7f} (rel {loss_err:.1e}); quantizer state after "
              f"the step ({'-Wn, 0, Wp' if method == 'ttq' else 'levels per channel'}): largest difference "
              f"{state_err:.1e} of the largest level; latent weights after Adam: {w_same} of {q_total} within "
              f"lr/1000; Q(W): {q_same} of {q_total} equal -> {'same' if passed else 'DIFFERENT'}")
    shutil.rmtree(work)
    sys.exit(0 if ok else 1)


def read_checkpoint_tensors(path):
    """btviz's checkpoint.bin: "BTVZCKP1", a UInt32 header length, the JSON header, then its tensors as float32."""
    import struct
    blob = open(path, "rb").read()
    length = struct.unpack("<I", blob[8:12])[0]
    header, offset, out = json.loads(blob[12:12 + length]), 12 + length, {}
    for e in header["tensors"]:
        out[e["name"]] = np.frombuffer(blob, dtype="<f4", count=e["count"], offset=offset).astype(np.float64)
        offset += 4 * e["count"]
    return out


def gradcheck(args):
    """Compares the gradient btviz steps with against PyTorch's at the weights of a trained btviz run (where a
    quantizer's thresholds have weights sitting on them, unlike at initialization): btviz's is read from Adam's first
    moment after one step at lr 1e-30 (m = 0.1 g, the weights do not move), from the run's weights (`train
    --init-from` its safetensors export), the first 128 training images as one batch, no augmentation. Per quantized
    conv: how many weights the two tools give another code (float rounding of the threshold: weights within an ulp
    of it); the task gradient with each tool's own Q(W) and with btviz's Q(W) in PyTorch's forward; the
    regularizer's gradient alone (btviz: its gradient at λ minus at λ 0)."""
    import subprocess
    import tempfile
    n = 128
    torch.set_num_threads(args.threads)
    work = tempfile.mkdtemp(prefix="resnet-gradcheck-")
    export = os.path.join(work, "run.safetensors")
    subprocess.run([args.btviz, "export", args.run, "--format", "safetensors", "--out", export], check=True, capture_output=True)
    theirs, meta = read_safetensors(export)
    config = json.loads(meta["config"])
    fits = {f["name"]: f for f in json.loads(meta.get("fits", "[]"))}
    method, depth = config["method"], config.get("depth", 20)
    lam = DEFAULT_LAMBDA[method] if args.lam is None else args.lam
    names = [k for k, v in ResNet(depth, 10, "full").state_dict().items() if not k.endswith("num_batches_tracked")]
    initial = {k: torch.from_numpy(theirs[k].copy()) for k in names}
    write_safetensors(os.path.join(work, "init.safetensors"), initial)
    (xtr, ytr), _ = read_cifar(args.data)
    x, y = xtr[:n].copy(), ytr[:n]
    standardize(x, x[:0])

    def btviz_gradients(l):
        run = os.path.join(work, f"run-{l}")
        subprocess.run([args.btviz, "train", "--headless", "--dataset", "cifar10", "--data-dir", args.data, "--model", "resnet",
                        "--depth", str(depth), "--method", method, "--init-from", os.path.join(work, "init.safetensors"),
                        "--train-limit", str(n), "--test-limit", str(n), "--batch-size", str(n), "--epochs", "1", "--no-crop",
                        "--no-cutout", "--no-flip", "--lambda", str(l), "--lr", "1e-30", "--threads", str(args.threads),
                        "--run-dir", run], check=True, capture_output=True)
        return {k[len("adam.m."):]: v / 0.1 for k, v in read_checkpoint_tensors(os.path.join(run, "checkpoint.bin")).items()
                if k.startswith("adam.m.")}

    def torch_gradients(q_of=None):
        model = ResNet(depth, 10, method)
        model.load_state_dict(initial, strict=False)
        if q_of is not None:  # btviz's Q(W) in the forward, straight-through to W
            for name, conv in model.named_modules():
                if isinstance(conv, QConv) and f"btviz.{name}.weight.q" in theirs:
                    q = torch.from_numpy(theirs[f"btviz.{name}.weight.q"].copy())
                    conv.forward = lambda xb, c=conv, q=q: c._conv_forward(xb, c.weight + (q - c.weight).detach(), None)
        model.train()
        F.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        task = {name: c.weight.grad.clone() for name, c in model.named_modules() if isinstance(c, QConv)}
        if q_of is None and lam > 0:
            add_regularizer_gradient(model, lam)
        return model, task

    def flat(t):  # a conv gradient in btviz's layout, [out, 3, 3, in]
        return t.double().permute(0, 2, 3, 1).reshape(-1).numpy()

    def rel(a, b):
        return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))

    with_reg, without = btviz_gradients(lam), btviz_gradients(0)
    model, task = torch_gradients()
    _, task_their_q = torch_gradients(q_of=True)
    print(f"{args.run}: ResNet-{depth} {method}, λ {lam}; btviz's step gradient against PyTorch's at its weights")
    print(f"{'layer':16s} {'codes differ':>15s} {'task, own Q':>12s} {'task, its Q':>12s} {'pull differs':>14s} "
          f"{'on a threshold':>15s}")
    worst_same_q, pull_off_threshold, on_threshold, total = 0.0, 0, 0, 0
    for name, conv in model.named_modules():
        if not isinstance(conv, QConv):
            continue
        w = conv.weight.detach()
        with torch.no_grad():
            mine_q = conv.quantizer(w) if conv.quantizer is not None else w
        their_q = torch.from_numpy(theirs.get(f"btviz.{name}.weight.q", w.numpy()).copy())
        codes = int((mine_q != their_q.to(mine_q.dtype)).logical_and((mine_q == 0) | (their_q == 0) | (mine_q.sign() != their_q.sign())).sum())
        own = rel(without[name], flat(task[name]))
        same_q = rel(without[name], flat(task_their_q[name]))
        worst_same_q = max(worst_same_q, same_q)
        # A weight within 4 float steps of a transition (PyTorch's or btviz's: they differ in the last bits) sits
        # on it: which side it is on, and so its code and the sign of its pull, is each tool's rounding.
        ts = conv.last_fit.transitions.reshape(-1).double().tolist() if conv.last_fit is not None else []
        ts += fits.get(name, {}).get("transitions", [])
        wf = flat(w)
        near = np.zeros(wf.shape, dtype=bool)
        for t in ts:
            near |= np.abs(wf - t) <= 4 * np.spacing(np.float32(abs(t)))
        reg_t = flat(conv.weight.grad - task[name])
        reg_b = with_reg[name] - without[name]
        off = np.abs(reg_b - reg_t) > 1e-3 * max(np.abs(reg_t).max(), 1e-30) if lam > 0 else np.zeros(wf.shape, dtype=bool)
        pull_off_threshold += int((off & ~near).sum())
        on_threshold += int(near.sum()); total += wf.size
        print(f"{name:16s} {codes:6d} of {w.numel():<6d} {own:12.1e} {same_q:12.1e} {int(off.sum()):14d} {int(near.sum()):15d}")
    print(f"{on_threshold} of {total} weights lie within 4 float steps of a threshold. With btviz's Q(W) the task "
          f"gradients agree to {worst_same_q:.1e} (largest difference over the largest element); the regularizer's "
          f"pull differs by more than 1/1000 of its peak on {pull_off_threshold} weights that are not on a threshold "
          f"(where the tools' codes differ, so does the layer's scale, and with it the width of every pull)")
    shutil.rmtree(work)
    sys.exit(0 if worst_same_q < 1e-2 else 1)


# ---------------------------------------------------------------------------------------------------------------
# bench: vgg6.py's benchmark on the ResNet (same options and JSON keys as `btviz bench --model resnet --json`)
# ---------------------------------------------------------------------------------------------------------------

def bench(args):
    torch.set_num_threads(args.threads)
    model, x, y = vgg6.build(args, lambda shape: ResNet(args.depth, args.classes, args.method, in_channels=shape[0]))
    _, h, w = vgg6.parse_shape(args.input)
    keys = {"model": "resnet", "depth": args.depth, "title": f"ResNet-{args.depth}", "input": args.input,
            "quantize_ends": False}
    # The regularizer's gradient only, as `btviz bench` steps (it measures R on logged training steps alone).
    vgg6.time_and_report(args, model, x, y, model.forward_macs(h, w), keys, f"ResNet-{args.depth} on {args.input}",
                         regularizer=lambda m, lam, generator=None: add_regularizer_gradient(m, lam))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["train"]:
        p = argparse.ArgumentParser(prog="resnet.py train", description="Train a CIFAR ResNet on btviz's recipe.")
        p.add_argument("--data", required=True, help="folder with CIFAR-10's binary files")
        p.add_argument("--depth", type=int, default=20, choices=(8, 20, 32, 44, 56, 110))
        p.add_argument("--method", choices=METHODS, default="bt")
        p.add_argument("--lambda", dest="lam", type=float, default=None,
                       help="transition regularizer weight (default: btviz's for the method)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--epochs", type=int, default=30)
        p.add_argument("--batch", type=int, default=128)
        p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay to 0 per step)")
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--out", required=True, help="JSON file to write (atomically, after every epoch)")
        args = p.parse_args(argv[1:])
        if args.epochs < 1 or args.batch < 2 or args.threads < 1 or (args.lam is not None and args.lam < 0):
            p.error("need --epochs >= 1, --batch >= 2, --threads >= 1, --lambda >= 0")
        train(args)
    elif argv[:1] == ["bench"]:
        p = argparse.ArgumentParser(prog="resnet.py bench", description="Time the ResNet's training steps and "
                                    "inference on random data (vgg6.py's benchmark; same JSON keys as `btviz bench "
                                    "--model resnet --json`).")
        p.add_argument("--depth", type=int, default=20, choices=(8, 20, 32, 44, 56, 110))
        vgg6.add_bench_options(p, methods=METHODS, default_input="3x32x32")
        args = p.parse_args(argv[1:])
        vgg6.check_bench_options(p, args)
        bench(args)
    elif argv[:1] == ["crosscheck"]:
        p = argparse.ArgumentParser(prog="resnet.py crosscheck", description=crosscheck.__doc__.split(".")[0])
        p.add_argument("--btviz", required=True, help="the btviz binary")
        p.add_argument("--data", required=True, help="folder with CIFAR-10's binary files")
        p.add_argument("--threads", type=int, default=1)
        crosscheck(p.parse_args(argv[1:]))
    elif argv[:1] == ["gradcheck"]:
        p = argparse.ArgumentParser(prog="resnet.py gradcheck", description=gradcheck.__doc__.split(":")[0])
        p.add_argument("--btviz", required=True, help="the btviz binary")
        p.add_argument("--data", required=True, help="folder with CIFAR-10's binary files")
        p.add_argument("--run", required=True, help="a trained btviz ResNet run folder")
        p.add_argument("--lambda", dest="lam", type=float, default=None, help="default: btviz's for the run's method")
        p.add_argument("--threads", type=int, default=1)
        gradcheck(p.parse_args(argv[1:]))
    elif argv[:1] == ["selftest"]:
        selftest(None)
    else:
        p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        p.add_argument("--fixtures", required=True, help="folder to write the differential test's fixtures to")
        p.add_argument("--data", required=True, help="folder with CIFAR-10's binary files (data_batch_1.bin)")
        fixtures(p.parse_args(argv))


if __name__ == "__main__":
    main()
