#!/usr/bin/env python3
"""btviz's super-resolution / denoising network (Sources/Models/RestorationNet.swift) in PyTorch, for benchmarking.

The network, on the Y channel (1 channel, values in [0, 1], NCHW):

  conv_first  Conv2d(1, 64, 3, padding 1, bias), full precision, ReLU
  body        4 x [Conv2d(64, 64, 3, padding 1, bias), quantized, ReLU]
  upsampler   x2, x3: Conv2d(64, 64 s^2, 3, padding 1, bias), quantized, PixelShuffle(s) (no ReLU);
              x4: two x2 stages; denoising: none
  conv_last   Conv2d(64, 1, 3, padding 1, bias), full precision
  output      SR: bicubic_up(x) + net(x); denoising: x - net(x) (the net predicts the noise)

bicubic_up is MATLAB's imresize bicubic for enlarging (cubic kernel a = -0.5, no antialiasing, source coordinate
u = (x + 0.5)/s - 0.5, indices mirrored symmetrically at the borders, weights normalized to sum 1), computed as a
fixed separable weighted gather (4 taps per output row, then per output column) from precomputed index and weight
tensors; not F.interpolate, whose bicubic uses a = -0.75 and clamps at the borders.

The quantized convs use vgg6.py's quantizers and straight-through estimator (imported, not copied): the forward
uses Q(w) with w + (Q(w) - w).detach(); scales and thresholds fitted under no_grad. Step: quantize, forward, MSE
(mean) against the high-resolution target, backward, [transition regularizer if --lambda > 0, vgg6.py's], Adam
(lr 1e-4, betas 0.9/0.999, eps 1e-8). PyTorch's default initialization (btviz's RestorationNet uses the same).

CLI (JSON keys as vgg6.py's and `btviz bench --task sr --json`):
  python srnet.py --task sr --scale 2 --patch 48 --batch 16 --mode train --json      # patches of 48x48 (HR side)
  python srnet.py --task sr --scale 2 --infer-size 512 --mode infer --json           # one 512x512 input image
  python srnet.py --task denoise --patch 48 --mode train --compile --json
"""

import argparse
import json
import math
import resource
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*NumPy.*")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vgg6  # noqa: E402  (quantizers, straight-through QConv2d, regularizer, Adam, compile bookkeeping)

CHANNELS = 64
BODY = 4


# ---------------------------------------------------------------------------------------------------------------
# MATLAB bicubic (imresize, enlarging)
# ---------------------------------------------------------------------------------------------------------------

def cubic(x, a=-0.5):
    x = abs(x)
    if x <= 1:
        return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
    if x < 2:
        return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a
    return 0.0


def bicubic_taps(n_in, scale):
    """(index [n_out, 4] int64, weight [n_out, 4] float32) of MATLAB's imresize bicubic along one dimension when
    enlarging n_in by the integer `scale`: u = (x + 0.5)/s - 0.5 (0-based), taps floor(u)-1 .. floor(u)+2 (MATLAB
    takes 6, the outer two always weigh 0), weights cubic(u - tap) normalized to sum 1 (in double, as MATLAB),
    indices mirrored symmetrically (-1 -> 0, -2 -> 1, n -> n-1)."""
    n_out = n_in * scale
    idx, wts = [], []
    for x in range(n_out):
        u = (x + 0.5) / scale - 0.5
        left = math.floor(u) - 1
        taps = [left + k for k in range(4)]
        w = [cubic(u - t) for t in taps]
        total = sum(w)
        period = 2 * n_in
        mirrored = []
        for t in taps:
            m = t % period
            mirrored.append(m if m < n_in else period - 1 - m)
        idx.append(mirrored)
        wts.append([v / total for v in w])
    return torch.tensor(idx, dtype=torch.int64), torch.tensor(wts, dtype=torch.float64).to(torch.float32)


def bicubic_up(x, taps_h, taps_w):
    """x [N, C, H, W] -> [N, C, H s, W s]: rows first, then columns (MATLAB's order for equal scales)."""
    ih, wh = taps_h
    iw, ww = taps_w
    y = sum(x.index_select(2, ih[:, k]) * wh[:, k].view(-1, 1) for k in range(4))
    return sum(y.index_select(3, iw[:, k]) * ww[:, k] for k in range(4))


# ---------------------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------------------

class QConv2dBias(vgg6.QConv2d):
    """vgg6.QConv2d (3x3, padding 1, quantized forward with a straight-through gradient) with a bias."""

    def __init__(self, cin, cout, method):
        nn.Conv2d.__init__(self, cin, cout, 3, padding=1, bias=True)
        self.method = method
        self.frozen = None
        self.last_fit = None

    def forward(self, x):
        if self.frozen is not None:
            return self._conv_forward(x, self.frozen, self.bias)
        if self.method == "full":
            return self._conv_forward(x, self.weight, self.bias)
        return self._conv_forward(x, self.quantized_weight(), self.bias)


class SRNet(nn.Module):
    def __init__(self, task="sr", scale=2, method="bt"):
        super().__init__()
        self.task = task
        self.scale = scale if task == "sr" else 1
        c = CHANNELS
        self.conv_first = nn.Conv2d(1, c, 3, padding=1, bias=True)
        self.body = nn.ModuleList(QConv2dBias(c, c, method) for _ in range(BODY))
        stages = [] if task != "sr" else ([2, 2] if scale == 4 else [scale])
        self.up_convs = nn.ModuleList(QConv2dBias(c, c * s * s, method) for s in stages)
        self.shuffles = nn.ModuleList(nn.PixelShuffle(s) for s in stages)
        self.conv_last = nn.Conv2d(c, 1, 3, padding=1, bias=True)
        self.convs = list(self.body) + list(self.up_convs)  # the quantized ones (vgg6.regularize reads .convs)
        self.taps = None

    def set_size(self, h, w):
        """Precomputes the bicubic tables for h x w inputs (outside torch.compile's graph)."""
        if self.task == "sr":
            self.taps = (bicubic_taps(h, self.scale), bicubic_taps(w, self.scale))

    def net(self, x):
        a = F.relu(self.conv_first(x))
        for conv in self.body:
            a = F.relu(conv(a))
        for conv, shuffle in zip(self.up_convs, self.shuffles):
            a = shuffle(conv(a))
        return self.conv_last(a)

    def forward(self, x):
        if self.task == "denoise":
            return x - self.net(x)
        return bicubic_up(x, *self.taps) + self.net(x)

    def forward_macs(self, h, w):
        """Multiply-accumulates of one forward pass of one h x w (low-resolution) input; convs only, as btviz's
        RestorationNet.forwardMACs (the bicubic's 8 taps per output pixel are not counted)."""
        c = CHANNELS
        macs = h * w * 9 * c * (1 + BODY * c)
        f = 1
        for conv, shuffle in zip(self.up_convs, self.shuffles):
            macs += h * f * w * f * 9 * c * conv.out_channels
            f *= shuffle.upscale_factor
        return macs + h * f * w * f * 9 * c


# ---------------------------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------------------------

def config_name(args):
    return args.memory_format + ("+compile" if args.compile else "")


def timed(args, what, body, samples_per_step, extra):
    """vgg6.py's timing: with --compile, untimed steps until one compiles nothing; --warmup steps; --steps timed."""
    if args.compile:
        compile_s = 0.0
        for i in range(vgg6.MAX_COMPILE_STEPS):
            n0 = vgg6.compile_events()
            t0 = time.perf_counter()
            body(i)
            dt = time.perf_counter() - t0
            if vgg6.compile_events() == n0:
                break
            compile_s += dt
        else:
            extra[f"{what}_compile_note"] = f"still compiling after {vgg6.MAX_COMPILE_STEPS} steps"
        extra[f"{what}_compile_s"] = round(compile_s, 1)
    for i in range(args.warmup):
        body(i)
    n0 = vgg6.compile_events() if args.compile else 0
    t0 = time.perf_counter()
    for i in range(args.steps):
        body(args.warmup + i)
    sps = args.steps * samples_per_step / (time.perf_counter() - t0)
    if args.compile and vgg6.compile_events() != n0:
        extra[f"{what}_recompiled_while_timed"] = True
    return sps


def run(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = SRNet(args.task, args.scale, args.method)
    s = model.scale
    lr_patch = args.patch // s
    cl = args.memory_format == "channels_last"
    if cl:
        model = model.to(memory_format=torch.channels_last)

    def layout(t):
        return t.contiguous(memory_format=torch.channels_last) if cl else t

    net = torch.compile(model) if args.compile else model
    results, extra = {}, {}
    train_macs = model.forward_macs(lr_patch, lr_patch)
    infer_macs = model.forward_macs(args.infer_size, args.infer_size)
    try:
        if args.mode in ("train", "both"):
            model.train()
            model.set_size(lr_patch, lr_patch)
            x = layout(torch.rand(args.batch, 1, lr_patch, lr_patch))
            y = layout(torch.rand(args.batch, 1, args.patch, args.patch))
            opt = vgg6.adam(model, args.adam)
            gen = torch.Generator().manual_seed(0)

            def train_step(i):
                opt.zero_grad(set_to_none=True)
                loss = F.mse_loss(net(x), y)
                loss.backward()
                if args.method != "full" and args.lam > 0:
                    vgg6.regularize(model, args.lam, generator=gen)
                opt.step()

            sps = timed(args, "train", train_step, args.batch, extra)
            results["train"] = (sps, sps * train_macs * 6 / 1e9)

        if args.mode in ("infer", "both"):
            model.eval()
            for conv in model.convs:
                conv.freeze()  # quantized once before timing, as btviz does
            model.set_size(args.infer_size, args.infer_size)
            xi = layout(torch.rand(1, 1, args.infer_size, args.infer_size))
            with torch.inference_mode():
                sps = timed(args, "infer", lambda i: net(xi), 1, extra)
            results["infer"] = (sps, sps * infer_macs * 2 / 1e9)
    except Exception as e:  # noqa: BLE001 - a compile failure is a result here, not a crash
        if not args.compile:
            raise
        extra["compile_error"] = vgg6.one_line(e)
        results = {}

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = args.fma_peak
    out = {"task": args.task, "scale": s, "patch": args.patch, "infer_size": args.infer_size,
           "method": args.method, "lambda": args.lam, "batch": args.batch, "threads": args.threads,
           "fma_peak_gflops": peak, "peak_rss_mb": round(rss_mb, 1),
           "forward_macs": train_macs}  # one training patch, whatever the mode, as btviz's key
    if args.mode != "train":
        out["infer_forward_macs"] = infer_macs
    for what, (sps, gf) in results.items():
        out[f"{what}_samples_per_s"] = round(sps, 3 if what == "infer" else 1)
        out[f"{what}_gflops"] = round(gf, 1)
        out[f"{what}_peak_fraction"] = round(gf / peak, 4) if peak else None
    if "infer" in results:
        out["infer_ms"] = round(1000 / results["infer"][0], 2)
    out["torch"] = torch.__version__
    out["memory_format"] = args.memory_format
    out["compile"] = args.compile
    out["config"] = config_name(args)
    out["adam"] = args.adam
    if args.compile and "compile_error" not in extra:
        extra["compile_s"] = round(sum(v for k, v in extra.items() if k.endswith("_compile_s")), 1)
    out.update(extra)
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
        return
    what = f"SR x{s}" if args.task == "sr" else "denoising"
    print(f"PyTorch {torch.__version__}: {what} net, {args.method} lambda {args.lam}, {args.threads} threads, "
          f"{config_name(args)}, Adam {args.adam}")
    if "compile_error" in out:
        print(f"torch.compile failed: {out['compile_error']}")
    elif args.compile:
        print(f"compile: {out['compile_s']:.1f} s in untimed steps")
    for what, (sps, gf) in results.items():
        more = f"  {100 * gf / peak:4.1f}% of peak" if peak else ""
        if what == "train":
            print(f"train ({args.patch}x{args.patch} patches, input {lr_patch}x{lr_patch}, batch {args.batch}): "
                  f"{sps:8.1f} patches/s  {gf:6.1f} GFLOP/s{more}")
        else:
            print(f"infer (one {args.infer_size}x{args.infer_size} input, output {args.infer_size * s}x"
                  f"{args.infer_size * s}): {sps:.3f} images/s ({1000 / sps:.0f} ms)  {gf:6.1f} GFLOP/s{more}")
    print(f"peak resident memory: {rss_mb:.0f} MB")


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch SR / denoising net with btviz's quantizers: time training "
                                            "steps and inference on random data (same JSON keys as `btviz bench`).")
    p.add_argument("--task", choices=("sr", "denoise"), default="sr")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), default=2, help="SR scale (ignored for denoise)")
    p.add_argument("--patch", type=int, default=48,
                   help="training patch side at the output (high) resolution; the input is patch/scale")
    p.add_argument("--infer-size", type=int, default=512, help="side of the (low-resolution) inference input")
    p.add_argument("--method", choices=vgg6.METHODS, default="bt")
    p.add_argument("--lambda", dest="lam", type=float, default=0.0,
                   help="transition regularizer weight (default 0: the plain step)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (with --compile: after the steps "
                                                         "that compile, which are untimed too)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (inference: images)")
    p.add_argument("--mode", choices=("train", "infer", "both"), default="both")
    p.add_argument("--memory-format", choices=("contiguous", "channels_last"), default="channels_last")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model (inductor); compilation happens in untimed steps and is "
                        "reported as compile_s; a failure is reported as compile_error")
    p.add_argument("--adam", choices=("foreach", "fused", "loop"), default="foreach")
    p.add_argument("--fma-peak", type=float, default=None,
                   help="FMA peak in GFLOP/s (e.g. btviz's measured one) for the *_peak_fraction keys")
    p.add_argument("--json", action="store_true", help="print JSON")
    args = p.parse_args(argv)
    s = args.scale if args.task == "sr" else 1
    if (args.batch < 1 or args.threads < 1 or args.steps < 1 or args.warmup < 0 or args.lam < 0
            or args.infer_size < 4):
        p.error("need --batch >= 1, --threads >= 1, --steps >= 1, --warmup >= 0, --lambda >= 0, --infer-size >= 4")
    if args.patch % s or args.patch // s < 4:
        p.error(f"--patch must be a multiple of the scale ({s}) with an input side of at least 4")
    run(args)


if __name__ == "__main__":
    main()
