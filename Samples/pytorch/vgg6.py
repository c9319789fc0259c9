#!/usr/bin/env python3
"""VGG-6(K) with btviz's weight quantizers and training step, in PyTorch, for benchmarking btviz against it.

The network, quantizers and step follow btviz (Sources/Layers/VGG6.swift, Sources/Quantizers/*.swift,
Sources/Training/StepEngine.swift and ../shared/docs/ENGINEERING.md, "The method, exactly"):

  VGG-6(K): 2x(K conv3x3 pad 1, no bias) + maxpool2 + 2x(2K) + maxpool2 + 2x(4K) + maxpool2
            + FC(8K, no bias) + BN1d + ReLU + FC(classes, bias); BN (batch statistics in training,
            momentum 0.1, eps 1e-5) and ReLU after every conv.
  Every conv weight goes through the chosen quantizer in the forward pass with a straight-through estimator:
  w + (Q(w) - w).detach(), so the gradient reaches the latent weights unchanged (identity, no clipping).
  Scales and thresholds are fitted under no_grad (btviz treats them as constants too). FC layers stay full precision.
  Step: quantize, forward, softmax cross-entropy (mean), backward, [transition-regularizer gradient if lambda > 0],
  Adam (betas 0.9/0.999, eps 1e-8).

The transition regularizer (lambda > 0) is btviz's: noise 0.1 * first scale, R = sum |Q(W) - Q(W~)| measured with
the clean weights' fit, and the gradient of R's expectation over the noise added to the latent weights' gradients
after backward (TransitionRegularizer.swift). With lambda = 0 (the default) the step is the plain one.

CLI (same JSON keys as `btviz bench --json`):
  python vgg6.py --k 16 --input 1x28x28 --method bt --batch 128 --threads 2 --warmup 3 --steps 20 --mode train --json
"""

import argparse
import json
import math
import resource
import sys
import time
import warnings

# torch warns at import when numpy is missing; the benchmark does not need numpy.
warnings.filterwarnings("ignore", message=".*NumPy.*")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

METHODS = ("full", "bwn", "twn", "bt")


# ---------------------------------------------------------------------------------------------------------------
# Quantizers: fit (scales, thresholds, transitions) under no_grad, then code(w) -> integer levels, Q = code * step.
# ---------------------------------------------------------------------------------------------------------------

class Fit:
    """A quantizer fitted to one layer's latent weights (mirrors QuantFit.swift)."""

    def __init__(self, method, step, first_scale, transitions, delta=0.0, a1=0.0, d1=0.0):
        self.method = method
        self.step = step                # value of one code step: a (BWN, TWN) or a_opt (BT); 1 for full
        self.first_scale = first_scale  # a or a1: the regularizer's noise unit
        self.transitions = transitions  # 1-D tensor, sorted, in latent-weight units
        self.delta = delta
        self.a1 = a1
        self.d1 = d1

    def code(self, w):
        """Integer level of every weight, as a float tensor (sign(0) = +1)."""
        if self.method == "bwn":
            return torch.where(w >= 0, 1.0, -1.0)
        if self.method == "twn":
            return (w > self.delta).to(w.dtype) - (w < -self.delta).to(w.dtype)
        if self.method == "bt":
            w0 = torch.where(w >= 0, 1.0, -1.0)
            e = w - self.a1 * w0
            return w0 + (e > self.d1).to(w.dtype) - (e < -self.d1).to(w.dtype)
        return torch.zeros_like(w)

    def quantize(self, w):
        if self.method == "full":
            return w
        return self.code(w) * self.step

    def step_heights(self):
        """Jump of Q at each transition (0 where Q does not jump, e.g. BT's point 0)."""
        eps = max(float(self.first_scale), 1e-12) * 1e-4
        t = self.transitions
        return (self.quantize(t + eps) - self.quantize(t - eps)).abs()


@torch.no_grad()
def fit(method, w, delta_ratio=0.66):
    a = w.abs().mean()
    if method == "full":
        return Fit("full", 1.0, a, w.new_zeros(0))
    if method == "bwn":
        return Fit("bwn", a, a, w.new_zeros(1))
    if method == "twn":
        d = delta_ratio * a
        mask = w.abs() > d
        n = mask.sum()
        s = torch.where(n > 0, (w.abs() * mask).sum() / n.clamp(min=1), w.new_zeros(()))
        return Fit("twn", s, s, torch.stack([-d, d]), delta=d)
    if method == "bt":
        a1 = a
        e1 = w - a1 * torch.where(w >= 0, 1.0, -1.0)
        a2 = e1.abs().mean()
        d1 = delta_ratio * a2
        a_opt = 0.75 * a1 - 0.25 * a2
        ts = torch.stack([-(a1 + d1), -(a1 - d1), torch.zeros_like(a1), a1 - d1, a1 + d1]).sort().values
        return Fit("bt", a_opt, a1, ts, a1=a1, d1=d1)
    raise ValueError(f"unknown method {method!r}")


class QConv2d(nn.Conv2d):
    """3x3 conv, padding 1, no bias, whose weight is quantized in the forward pass (straight-through)."""

    def __init__(self, cin, cout, method):
        super().__init__(cin, cout, 3, padding=1, bias=False)
        self.method = method
        self.frozen = None  # pre-quantized weight for inference (btviz quantizes once before timing)
        self.last_fit = None

    def forward(self, x):
        if self.frozen is not None:
            return self._conv_forward(x, self.frozen, None)
        if self.method == "full":
            return self._conv_forward(x, self.weight, None)
        w = self.weight
        f = fit(self.method, w)
        self.last_fit = f
        with torch.no_grad():
            q = f.quantize(w)
        # Straight-through estimator: forward uses Q(w), backward passes the gradient to w unchanged.
        wq = w + (q - w).detach()
        if wq.stride() != w.stride():
            # Keep the parameter's strides: for Cin = 1 in channels_last the sum comes back with NCHW strides
            # (the same layout, but oneDNN then runs the first conv in NCHW and copies its activations).
            wq = torch.empty_like(w).copy_(wq)
        return self._conv_forward(x, wq, None)

    @torch.no_grad()
    def freeze(self):
        f = fit(self.method, self.weight)
        self.frozen = torch.empty_like(self.weight).copy_(f.quantize(self.weight))


class VGG6(nn.Module):
    def __init__(self, k=16, input_shape=(1, 28, 28), classes=10, method="bt", init="pytorch"):
        super().__init__()
        c, h, w = input_shape
        layers = []
        self.convs = []
        for width in (k, 2 * k, 4 * k):
            for _ in range(2):
                conv = QConv2d(c, width, method)
                self.convs.append(conv)
                layers += [conv, nn.BatchNorm2d(width, eps=1e-5, momentum=0.1), nn.ReLU(inplace=True)]
                c = width
            layers.append(nn.MaxPool2d(2))
            h //= 2
            w //= 2
        self.features = nn.Sequential(*layers)
        self.fc1 = nn.Linear(h * w * c, 8 * k, bias=False)
        self.bn7 = nn.BatchNorm1d(8 * k, eps=1e-5, momentum=0.1)
        self.fc2 = nn.Linear(8 * k, classes, bias=True)
        self.input_shape = tuple(input_shape)
        # PyTorch's default initialization (uniform within +-1/sqrt(fan_in)) is btviz's default too;
        # "he" is btviz's --init he (He-normal, fan in, zero biases).
        if init == "he":
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
        elif init != "pytorch":
            raise ValueError(f"unknown init {init!r}")

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.bn7(self.fc1(x)), inplace=True))

    def forward_macs(self):
        """Multiply-accumulates of one forward pass of one sample (btviz's convention)."""
        _, h, w = self.input_shape
        macs = 0
        for i, conv in enumerate(self.convs):
            macs += h * w * conv.out_channels * 9 * conv.in_channels
            if i % 2 == 1:  # maxpool2 after every second conv
                h //= 2
                w //= 2
        macs += self.fc1.in_features * self.fc1.out_features + self.fc2.in_features * self.fc2.out_features
        return macs


# ---------------------------------------------------------------------------------------------------------------
# Transition regularizer (TransitionRegularizer.swift): measure R and flips, add d(-lambda * E[R])/dW to the grads.
# ---------------------------------------------------------------------------------------------------------------

INV_SQRT_2PI = 0.39894228


@torch.no_grad()
def regularize(model, lam, noise_ratio=0.1, generator=None):
    """Returns sum over layers of R; adds the expectation gradient of -lambda * R to every conv weight's grad."""
    total_r = 0.0
    for conv in model.convs:
        f = conv.last_fit
        if f is None or f.method == "full":
            continue
        w = conv.weight
        s = f.first_scale
        # measure: one noise sample, codes with the clean fit
        noise = torch.randn(w.shape, generator=generator, dtype=w.dtype) * (noise_ratio * s)
        c0 = f.code(w)
        c1 = f.code(w + noise)
        total_r = total_r + (c0 - c1).abs().sum() * f.step  # R summed over the weights (Eq. 7)
        # gradient: for each transition t with jump h, +lambda * h * phi((w-t)/s') / s' * sign(w - t)
        if lam > 0:
            sp = noise_ratio * s
            hs = f.step_heights()
            keep = hs > 0
            ts, hs = f.transitions[keep], hs[keep]
            d = w.reshape(-1, 1) - ts.reshape(1, -1)
            u = d / sp
            k = lam * hs * INV_SQRT_2PI / sp
            g = k * torch.exp(-0.5 * u * u) * torch.where(d >= 0, 1.0, -1.0) * (d.abs() < 8 * sp)
            w.grad.add_(g.sum(dim=1).reshape(w.shape))
    return total_r


# ---------------------------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------------------------

def parse_shape(s):
    parts = [int(p) for p in s.lower().split("x")]
    if len(parts) != 3 or min(parts) < 1 or parts[1] < 8 or parts[2] < 8:
        raise SystemExit("--input must look like 1x28x28 (C x H x W, H and W at least 8)")
    return tuple(parts)


def build(args):
    torch.manual_seed(0)
    shape = parse_shape(args.input)
    model = VGG6(args.k, shape, 10, args.method)
    x = torch.randn(args.batch, *shape)
    y = torch.randint(0, 10, (args.batch,))
    if args.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return model, x, y


def run(args):
    torch.set_num_threads(args.threads)
    model, x, y = build(args)
    macs = model.forward_macs()
    results = {}

    def timed(body):
        for i in range(args.warmup):
            body(i)
        t0 = time.perf_counter()
        for i in range(args.steps):
            body(args.warmup + i)
        return args.steps * args.batch / (time.perf_counter() - t0)

    if args.mode in ("train", "both"):
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
                               **({"fused": True} if args.adam == "fused" else {"foreach": args.adam == "foreach"}))
        gen = torch.Generator().manual_seed(0)

        def train_step(i):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if args.method != "full" and args.lam > 0:
                regularize(model, args.lam, generator=gen)
            opt.step()

        sps = timed(train_step)
        results["train"] = (sps, sps * macs * 6 / 1e9)

    if args.mode in ("infer", "both"):
        model.eval()
        for conv in model.convs:
            conv.freeze()
        with torch.inference_mode():
            sps = timed(lambda i: model(x))
        results["infer"] = (sps, sps * macs * 2 / 1e9)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = args.fma_peak
    out = {"k": args.k, "input": args.input, "method": args.method, "lambda": args.lam, "batch": args.batch,
           "threads": args.threads, "fma_peak_gflops": peak, "peak_rss_mb": round(rss_mb, 1)}
    for what, (sps, gf) in results.items():
        out[f"{what}_samples_per_s"] = round(sps, 1)
        out[f"{what}_gflops"] = round(gf, 1)
        out[f"{what}_peak_fraction"] = round(gf / peak, 4) if peak else None
    out["torch"] = torch.__version__
    out["memory_format"] = args.memory_format
    out["adam"] = args.adam
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
        return
    print(f"PyTorch {torch.__version__}: VGG-6({args.k}) on {args.input}, batch {args.batch}, {args.method} "
          f"lambda {args.lam}, {args.threads} threads, {args.memory_format}, Adam {args.adam}")
    for what, (sps, gf) in results.items():
        extra = f"  {100 * gf / peak:4.1f}% of peak" if peak else ""
        print(f"{what}: {sps:8.0f} samples/s  {gf:6.1f} GFLOP/s{extra}")
    print(f"peak resident memory: {rss_mb:.0f} MB")


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch VGG-6(K) with btviz's quantizers: time training steps "
                                            "and inference on random data (same JSON keys as `btviz bench`).")
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--input", default="1x28x28", help="CxHxW, e.g. 1x28x28 or 3x32x32")
    p.add_argument("--method", choices=METHODS, default="bt")
    p.add_argument("--lambda", dest="lam", type=float, default=0.0,
                   help="transition regularizer weight (default 0: the plain step)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--mode", choices=("train", "infer", "both"), default="both")
    p.add_argument("--memory-format", choices=("contiguous", "channels_last"), default="channels_last",
                   help="tensor layout for activations and conv weights (default: the faster one on the "
                        "machine this was written on)")
    p.add_argument("--adam", choices=("foreach", "fused", "loop"), default="foreach",
                   help="Adam implementation")
    p.add_argument("--fma-peak", type=float, default=None,
                   help="FMA peak in GFLOP/s (e.g. btviz's measured one) for the *_peak_fraction keys")
    p.add_argument("--json", action="store_true", help="print JSON")
    args = p.parse_args(argv)
    if args.k < 1 or args.batch < 2 or args.threads < 1 or args.steps < 1 or args.warmup < 0 or args.lam < 0:
        p.error("need --k >= 1, --batch >= 2, --threads >= 1, --steps >= 1, --warmup >= 0, --lambda >= 0")
    run(args)


if __name__ == "__main__":
    main()
