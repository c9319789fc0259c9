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
  python vgg6.py --k 16 --mode train --compile --json     # torch.compile (inductor); compile time is untimed
  python vgg6.py --k 16 --check                           # compiled step against the eager one, fixed batch
  python vgg6.py --k 64 --profile                         # per-layer times (torch.profiler), btviz's stages
"""

import argparse
import json
import math
import resource
import statistics
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
        return self._conv_forward(x, self.quantized_weight(), None)

    def quantized_weight(self):
        """Q(w) with a straight-through gradient to w (`--profile` times this as the layer's quantize stage)."""
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
        return wq

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
        self.flatten = nn.Flatten(1)  # modules without parameters, so that --profile can time them as layers
        self.fc1 = nn.Linear(h * w * c, 8 * k, bias=False)
        self.bn7 = nn.BatchNorm1d(8 * k, eps=1e-5, momentum=0.1)
        self.relu7 = nn.ReLU(inplace=True)
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
        x = self.flatten(self.features(x))
        return self.fc2(self.relu7(self.bn7(self.fc1(x))))

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
        if lam > 0:
            w.grad.add_(transition_pull(w, f.transitions, f.step_heights(), s, lam, noise_ratio))
    return total_r


@torch.no_grad()
def transition_pull(w, transitions, heights, first_scale, lam, noise_ratio=0.1):
    """d(-lambda * E[R])/dW: for each transition t with jump h, +lambda * h * phi((w-t)/s') / s' * sign(w - t),
    s' = noise_ratio * first_scale, nothing beyond 8 s'. `transitions` and `heights` are [T] (one table for the
    tensor) or [C, T] (one per output channel, the weight's first axis, as LQ-Nets' basis)."""
    sp = noise_ratio * first_scale
    ts, hs = transitions.reshape(-1, transitions.shape[-1]), heights.reshape(-1, heights.shape[-1])
    wc = w.reshape(ts.shape[0], -1, 1)
    d = wc - ts.unsqueeze(1)
    u = d / sp
    k = (lam * INV_SQRT_2PI / sp) * hs.unsqueeze(1)
    g = k * torch.exp(-0.5 * u * u) * torch.where(d >= 0, 1.0, -1.0) * (d.abs() < 8 * sp)
    return g.sum(dim=2).reshape(w.shape)


# ---------------------------------------------------------------------------------------------------------------
# Benchmark
# ---------------------------------------------------------------------------------------------------------------

def parse_shape(s):
    parts = [int(p) for p in s.lower().split("x")]
    if len(parts) != 3 or min(parts) < 1 or parts[1] < 8 or parts[2] < 8:
        raise SystemExit("--input must look like 1x28x28 (C x H x W, H and W at least 8)")
    return tuple(parts)


def build(args, make=None):
    """The model (`make(shape)`, VGG-6(K) by default) with torch.manual_seed(0), a random batch, in the layout."""
    torch.manual_seed(0)
    shape = parse_shape(args.input)
    model = make(shape) if make else VGG6(args.k, shape, args.classes, args.method)
    x = torch.randn(args.batch, *shape)
    y = torch.randint(0, args.classes, (args.batch,))
    if args.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return model, x, y


def adam(model, kind):
    return torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
                            **({"fused": True} if kind == "fused" else {"foreach": kind == "foreach"}))


def config_name(args):
    return args.memory_format + ("+compile" if args.compile else "")


def compile_events():
    """A count that grows whenever torch.compile traces, partitions or compiles (or loads from its cache) a graph."""
    from torch._dynamo.utils import counters
    n = sum(counters["frames"].values()) + sum(counters["aot_autograd"].values())
    return n + sum(v for k, v in counters["inductor"].items() if k.startswith("fxgraph_cache"))


def one_line(e):
    msg = " ".join(str(e).split()).split(" Set TORCHDYNAMO_VERBOSE")[0]  # drop torch's boilerplate hint
    return f"{type(e).__name__}: {msg[:300]}"


MAX_COMPILE_STEPS = 10


def run(args):
    torch.set_num_threads(args.threads)
    model, x, y = build(args)
    time_and_report(args, model, x, y, model.forward_macs(), {"k": args.k, "input": args.input},
                    f"VGG-6({args.k}) on {args.input}")


def time_and_report(args, model, x, y, macs, keys, title, regularizer=regularize):
    """Times training steps and/or inference (`args.mode`) of `model` on the batch (x, y), then prints the JSON
    keys of `btviz bench --json` (`keys` first: the model's own) or a text report headed by `title`. `model.convs`
    are the quantized convs (each with `freeze()`); `macs` is one sample's forward multiply-accumulates;
    `regularizer(model, lam, generator=...)` adds the transition regularizer's gradient after backward."""
    # torch.compile is lazy: the first calls trace and compile (training: forward and backward; inference again,
    # as eval mode, frozen weights and inference_mode change the graph). Those calls are untimed.
    net = torch.compile(model) if args.compile else model
    results, extra = {}, {}

    def timed(what, body):
        compile_s = 0.0
        if args.compile:
            for i in range(MAX_COMPILE_STEPS):
                n0 = compile_events()
                t0 = time.perf_counter()
                body(i)
                dt = time.perf_counter() - t0
                if compile_events() == n0:
                    break  # this step compiled nothing: torch.compile has settled
                compile_s += dt
            else:
                extra[f"{what}_compile_note"] = f"still compiling after {MAX_COMPILE_STEPS} steps"
            extra[f"{what}_compile_s"] = round(compile_s, 1)
        for i in range(args.warmup):
            body(i)
        n0 = compile_events() if args.compile else 0
        t0 = time.perf_counter()
        for i in range(args.steps):
            body(args.warmup + i)
        sps = args.steps * args.batch / (time.perf_counter() - t0)
        if args.compile and compile_events() != n0:
            extra[f"{what}_recompiled_while_timed"] = True
        return sps

    try:
        if args.mode in ("train", "both"):
            model.train()
            opt = adam(model, args.adam)
            gen = torch.Generator().manual_seed(0)

            def train_step(i):
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(net(x), y)
                loss.backward()
                if args.method != "full" and args.lam > 0:
                    regularizer(model, args.lam, generator=gen)
                opt.step()

            sps = timed("train", train_step)
            results["train"] = (sps, sps * macs * 6 / 1e9)

        if args.mode in ("infer", "both"):
            model.eval()
            for conv in model.convs:
                conv.freeze()
            with torch.inference_mode():
                sps = timed("infer", lambda i: net(x))
            results["infer"] = (sps, sps * macs * 2 / 1e9)
    except Exception as e:  # noqa: BLE001 - a compile failure is a result here, not a crash
        if not args.compile:
            raise
        extra["compile_error"] = one_line(e)
        results = {}

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak = args.fma_peak
    out = {**keys, "method": args.method, "lambda": args.lam, "batch": args.batch,
           "threads": args.threads, "fma_peak_gflops": peak, "peak_rss_mb": round(rss_mb, 1)}
    for what, (sps, gf) in results.items():
        out[f"{what}_samples_per_s"] = round(sps, 1)
        out[f"{what}_gflops"] = round(gf, 1)
        out[f"{what}_peak_fraction"] = round(gf / peak, 4) if peak else None
    out["torch"] = torch.__version__
    out["memory_format"] = args.memory_format
    out["compile"] = args.compile
    out["config"] = config_name(args)
    out["adam"] = args.adam
    if args.classes != 10:
        out["classes"] = args.classes
    if args.compile and "compile_error" not in extra:
        extra["compile_s"] = round(sum(v for k, v in extra.items() if k.endswith("_compile_s")), 1)
    out.update(extra)
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
        return
    print(f"PyTorch {torch.__version__}: {title}, batch {args.batch}, {args.method} "
          f"lambda {args.lam}, {args.threads} threads, {config_name(args)}, Adam {args.adam}")
    if "compile_error" in out:
        print(f"torch.compile failed: {out['compile_error']}")
    elif args.compile:
        print(f"compile: {out['compile_s']:.1f} s in untimed steps")
    for what, (sps, gf) in results.items():
        more = f"  {100 * gf / peak:4.1f}% of peak" if peak else ""
        print(f"{what}: {sps:8.0f} samples/s  {gf:6.1f} GFLOP/s{more}")
    print(f"peak resident memory: {rss_mb:.0f} MB")


# ---------------------------------------------------------------------------------------------------------------
# --check: the compiled step against the eager one on a fixed batch
# ---------------------------------------------------------------------------------------------------------------

def check(args, steps=3, rtol=1e-4):
    """Trains an eager model, a torch.compile'd copy and an eager copy in the other memory layout side by side on
    one fixed batch. At the first step (same weights) the compiled loss must equal the eager one within float
    tolerance, and every gradient must be as close to eager's as the other layout's is (within 2x, or rtol of the
    tensor's largest entry): on random data BN's backward subtracts nearly equal sums, so any change of summation
    order moves some gradients by up to a few % of their largest entry, in eager as much as compiled. Then the
    inference logits at the same weights (rtol). The later steps' losses are printed with both drifts (those also
    flip the codes of weights at a transition). Returns True when the checks pass."""
    import copy
    torch.set_num_threads(args.threads)
    model, x, y = build(args)
    twin = copy.deepcopy(model)
    other_args = argparse.Namespace(**{**vars(args), "memory_format": {"channels_last": "contiguous"}.get(
        args.memory_format, "channels_last")})
    other, xo, _ = build(other_args)
    out = {"check": True, "k": args.k, "input": args.input, "method": args.method, "lambda": args.lam,
           "batch": args.batch, "memory_format": args.memory_format, "torch": torch.__version__}
    regularized = args.method != "full" and args.lam > 0
    try:
        t0 = time.perf_counter()
        net = torch.compile(twin)
        sides = [(model, model, x), (twin, net, x), (other, other, xo)]
        opts = [adam(m, args.adam) for m, _, _ in sides]
        gens = [torch.Generator().manual_seed(0) for _ in sides]
        losses, grads = [[] for _ in sides], []
        for step in range(steps):
            for (m, n, xs), opt, g, ls in zip(sides, opts, gens, losses):
                m.train()
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(n(xs), y)
                loss.backward()
                if step == 0:
                    grads.append({k: p.grad.detach().clone() for k, p in m.named_parameters()})
                if regularized:
                    regularize(m, args.lam, generator=g)
                opt.step()
                ls.append(loss.item())
        twin.load_state_dict(model.state_dict())  # the same weights and BN statistics for the inference check
        logits = []
        for m, n, _ in sides[:2]:
            m.eval()
            for conv in m.convs:
                conv.freeze()
            with torch.inference_mode():
                logits.append(n(x).float())
        out["compile_s"] = round(time.perf_counter() - t0, 1)
    except Exception as e:  # noqa: BLE001
        out["compile_error"] = one_line(e)
        out["ok"] = False
        print(json.dumps(out) if args.json else f"torch.compile failed: {out['compile_error']}")
        return False
    eager, compiled, ref = losses
    loss_ok = math.isclose(eager[0], compiled[0], rel_tol=1e-5, abs_tol=1e-6)
    def rel(a, b):
        return ((a - b).abs().max() / a.abs().max().clamp(min=1e-12)).item()
    errs = {k: (rel(grads[0][k], grads[1][k]), rel(grads[0][k], grads[2][k])) for k in grads[0]}
    grads_ok = all(c <= max(rtol, 2 * r) for c, r in errs.values())
    grad_err = max(c for c, _ in errs.values())
    grad_ref = max(r for _, r in errs.values())
    logit_err = ((logits[0] - logits[1]).abs().max() / logits[0].abs().max().clamp(min=1e-12)).item()
    ok = loss_ok and grads_ok and logit_err <= rtol
    out.update(eager_losses=eager, compiled_losses=compiled, other_layout_losses=ref,
               first_loss_diff=abs(eager[0] - compiled[0]), max_grad_rel_err=grad_err,
               max_grad_rel_err_other_layout=grad_ref,
               max_logit_rel_err=logit_err, drift_compiled=max(abs(a - b) for a, b in zip(eager, compiled)),
               drift_other_layout=max(abs(a - b) for a, b in zip(eager, ref)), rtol=rtol, ok=ok)
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
        return ok
    print(f"eager against torch.compile, VGG-6({args.k}) on {args.input}, {args.method}, {args.memory_format}, "
          f"{steps} training steps on one fixed batch (compile {out['compile_s']:.0f} s)")
    print(f"  step 1 (same weights): loss eager {eager[0]:.7f} compiled {compiled[0]:.7f}; largest gradient "
          f"difference {grad_err:.1e} of the tensor's largest entry (eager in {other_args.memory_format}: "
          f"{grad_ref:.1e})")
    print(f"  inference at the same weights: largest logit difference {logit_err:.1e} of the largest logit")
    print(f"  -> {'same within float tolerance' if ok else 'DIFFERENT'} (loss rtol 1e-5; every gradient within 2x "
          f"the other layout's difference or {rtol:g}; logits {rtol:g})")
    print("  losses, steps 1.." + str(steps) + " (later steps drift apart with any change of rounding, either way):")
    print("    eager:                " + "  ".join(f"{v:.7f}" for v in eager))
    print("    compiled:             " + "  ".join(f"{v:.7f}" for v in compiled) + f"   (drift {out['drift_compiled']:.1e})")
    print(f"    eager, {other_args.memory_format + ':':<14} " + "  ".join(f"{v:.7f}" for v in ref)
          + f"   (drift {out['drift_other_layout']:.1e})")
    return ok


# ---------------------------------------------------------------------------------------------------------------
# --profile: PyTorch's per-layer times from torch.profiler, in btviz's stages
# ---------------------------------------------------------------------------------------------------------------

SCOPE = "#"  # prefix of the torch.profiler ranges --profile opens


def stages(model):
    """[(key, name)] in btviz's `bench --profile` order and naming, plus (module, key) for every module timed."""
    _, h, w = model.input_shape
    names, modules = [("quantize", "quantize")], []
    n, key = 0, None
    for m in model.features:
        if isinstance(m, QConv2d):
            n += 1
            key = f"conv{n}"
            names.append((key, f"conv{n} {m.in_channels}->{m.out_channels} @{h}x{w}"))
            modules.append((m, key))
            key = f"bn{n}"
        elif isinstance(m, nn.BatchNorm2d):
            names.append((key, f"bn{n}+relu {m.num_features}ch"))
            modules.append((m, key))
        else:  # the ReLU after a BN, and the max-pool after every second one: btviz's BN stage includes both
            modules.append((m, key))
            if isinstance(m, nn.MaxPool2d):
                names[-1] = (key, names[-1][1].replace("+relu ", "+relu+pool "))
                h, w = h // 2, w // 2
    names += [("fc1", f"fc1 {model.fc1.in_features}->{model.fc1.out_features}"),
              ("bn7", f"bn7+relu {model.bn7.num_features}ch"),
              ("fc2", f"fc2 {model.fc2.in_features}->{model.fc2.out_features}"),
              ("loss", "loss"), ("regularizer", "regularizer"), ("adam", "adam")]
    modules += [(model.flatten, "fc1"), (model.fc1, "fc1"), (model.bn7, "bn7"), (model.relu7, "bn7"),
                (model.fc2, "fc2")]
    return names, modules


def add_scopes(model):
    """Opens a profiler range around every module's forward (and every conv's weight quantization)."""
    from torch.autograd.profiler import record_function
    open_ranges = []

    def pre(key):
        def hook(module, inputs):
            r = record_function(SCOPE + key)
            r.__enter__()
            open_ranges.append(r)
        return hook

    def post(module, inputs, output):
        open_ranges.pop().__exit__(None, None, None)

    _, modules = stages(model)
    for m, key in modules:
        m.register_forward_pre_hook(pre(key))
        m.register_forward_hook(post)
    for conv in model.convs:
        def quantized_weight(inner=conv.quantized_weight):
            with record_function(SCOPE + "quantize"):
                return inner()
        conv.quantized_weight = quantized_weight


def attribute(events):
    """Per step: {key: [forward us, backward us]} and the step's wall time, from torch.profiler's events.

    Forward: each range's time less the ranges inside it (a conv's quantize is its own stage). Backward: every
    autograd node's evaluate_function goes to the stage whose forward op created the node (matched by the
    autograd sequence number); AccumulateGrad goes with the node evaluated just before it."""
    import bisect
    steps = sorted((e for e in events if e.name == SCOPE + "step"), key=lambda e: e.time_range.start)
    starts = [s.time_range.start for s in steps]

    def step_of(e):
        i = bisect.bisect_right(starts, e.time_range.start) - 1
        return i if i >= 0 and e.time_range.start < steps[i].time_range.end else None

    def scope_of(e):
        p = e.cpu_parent
        while p is not None and not p.name.startswith(SCOPE):
            p = p.cpu_parent
        return p

    per = [dict() for _ in steps]
    seq_key = {}
    nested = {}
    evals = []
    for e in events:
        if e.name.startswith("autograd::engine::evaluate_function"):
            evals.append(e)
            continue
        if e.name.startswith(SCOPE) and e.name != SCOPE + "step":
            parent = scope_of(e)
            if parent is not None and parent.name != SCOPE + "step":
                nested[parent.id] = nested.get(parent.id, 0.0) + e.time_range.elapsed_us()
            continue
        if e.sequence_nr is not None and e.sequence_nr >= 0 and e.sequence_nr not in seq_key:
            s = scope_of(e)
            seq_key[e.sequence_nr] = s.name[len(SCOPE):] if s is not None and s.name != SCOPE + "step" else "other"
    for e in events:
        if not e.name.startswith(SCOPE) or e.name == SCOPE + "step":
            continue
        i = step_of(e)
        if i is None:
            continue
        key = e.name[len(SCOPE):]
        column = 1 if key in ("adam", "regularizer") else 0
        per[i].setdefault(key, [0.0, 0.0])[column] += e.time_range.elapsed_us() - nested.get(e.id, 0.0)
    last = "other"
    for e in sorted(evals, key=lambda e: e.time_range.start):
        i = step_of(e)
        if i is None:
            continue
        if "AccumulateGrad" in e.name or e.sequence_nr is None or e.sequence_nr < 0:
            key = last
        else:
            key = seq_key.get(e.sequence_nr, "other")
            last = key
        per[i].setdefault(key, [0.0, 0.0])[1] += e.time_range.elapsed_us()
    return per, [s.time_range.elapsed_us() for s in steps]


def profile(args):
    from torch.autograd.profiler import record_function
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile
    torch.set_num_threads(args.threads)
    model, x, y = build(args)
    model.train()
    opt = adam(model, args.adam)
    gen = torch.Generator().manual_seed(0)
    regularized = args.method != "full" and args.lam > 0

    def train_step(i):
        with record_function(SCOPE + "adam"):
            opt.zero_grad(set_to_none=True)
        out = model(x)
        with record_function(SCOPE + "loss"):
            loss = F.cross_entropy(out, y)
        loss.backward()
        if regularized:
            with record_function(SCOPE + "regularizer"):
                regularize(model, args.lam, generator=gen)
        with record_function(SCOPE + "adam"):
            opt.step()

    n = max(args.steps, 5)
    for i in range(args.warmup):
        train_step(i)
    plain = []
    for i in range(n):
        t0 = time.perf_counter()
        train_step(i)
        plain.append(time.perf_counter() - t0)
    plain_ms = 1000 * statistics.median(plain)
    add_scopes(model)
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for i in range(n):
            with record_function(SCOPE + "step"):
                train_step(i)
    per, totals = attribute(prof.events())
    names, _ = stages(model)
    known = {k for k, _ in names}
    keys = [k for k, _ in names] + sorted({k for p in per for k in p} - known)

    def med(key, col):
        return statistics.median(p.get(key, [0.0, 0.0])[col] for p in per) / 1000

    rows = []
    for key in keys:
        if key in ("regularizer",) and not regularized:
            continue
        rows.append({"stage": key, "name": dict(names).get(key, key), "forward_ms": round(med(key, 0), 3),
                     "backward_ms": round(med(key, 1), 3)})
    step_ms = statistics.median(totals) / 1000
    other = statistics.median(t - sum(a + b for a, b in p.values()) for p, t in zip(per, totals)) / 1000
    rows.append({"stage": "other", "name": "other (Python, autograd engine)", "forward_ms": None,
                 "backward_ms": round(other, 3)})
    out = {"profile": rows, "k": args.k, "input": args.input, "method": args.method, "lambda": args.lam,
           "batch": args.batch, "threads": args.threads, "memory_format": args.memory_format, "compile": False,
           "adam": args.adam, "steps": n, "step_ms": round(step_ms, 2), "step_ms_unprofiled": round(plain_ms, 2),
           "torch": torch.__version__}
    if args.json:
        print(json.dumps(out, separators=(",", ":")))
        return
    print(f"PyTorch {torch.__version__} profile of one training step (ms, median of {n}; torch.profiler, eager, "
          f"{args.memory_format}): VGG-6({args.k}) on {args.input}, batch {args.batch}, {args.method} lambda "
          f"{args.lam}, {args.threads} threads")
    print("  stage                            forward  backward   share")
    for r in rows:
        f, b = r["forward_ms"] or 0.0, r["backward_ms"]
        print(f"  {r['name']:<32} {f:7.2f}  {b:8.2f}  {100 * (f + b) / step_ms:5.1f}%")
    print(f"  {'total':<32} {step_ms:17.2f}")
    print(f"step without the profiler: {plain_ms:.2f} ms (median of {n})")


def add_bench_options(p, methods=METHODS, default_input="1x28x28"):
    """The benchmark's options, shared with resnet.py's bench mode (the model's own are added by each script)."""
    p.add_argument("--input", default=default_input, help="CxHxW, e.g. 1x28x28 or 3x32x32")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--method", choices=methods, default="bt")
    p.add_argument("--lambda", dest="lam", type=float, default=0.0,
                   help="transition regularizer weight (default 0: the plain step)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (with --compile: after the steps "
                                                         "that compile, which are untimed too)")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--mode", choices=("train", "infer", "both"), default="both")
    p.add_argument("--memory-format", choices=("contiguous", "channels_last"), default="channels_last",
                   help="tensor layout for activations and conv weights (default channels_last)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model (inductor); compilation happens in untimed steps and is "
                        "reported as compile_s; a failure is reported as compile_error")
    p.add_argument("--adam", choices=("foreach", "fused", "loop"), default="foreach",
                   help="Adam implementation")
    p.add_argument("--fma-peak", type=float, default=None,
                   help="FMA peak in GFLOP/s (e.g. btviz's measured one) for the *_peak_fraction keys")
    p.add_argument("--json", action="store_true", help="print JSON")


def check_bench_options(p, args):
    if (args.batch < 2 or args.threads < 1 or args.steps < 1 or args.warmup < 0 or args.lam < 0
            or args.classes < 2):
        p.error("need --batch >= 2, --threads >= 1, --steps >= 1, --warmup >= 0, --lambda >= 0, --classes >= 2")


def main(argv=None):
    p = argparse.ArgumentParser(description="PyTorch VGG-6(K) with btviz's quantizers: time training steps "
                                            "and inference on random data (same JSON keys as `btviz bench`).")
    p.add_argument("--k", type=int, default=16)
    add_bench_options(p)
    p.add_argument("--check", action="store_true",
                   help="compare a torch.compile'd training step with the eager one on a fixed batch (losses "
                        "of 3 steps, then inference logits) and exit 1 if they differ")
    p.add_argument("--profile", action="store_true",
                   help="time one eager training step layer by layer with torch.profiler (ms, median over "
                        "max(--steps, 5) steps), in btviz's `bench --profile` stages")
    args = p.parse_args(argv)
    if args.k < 1:
        p.error("need --k >= 1")
    check_bench_options(p, args)
    if args.profile and (args.compile or args.check):
        p.error("--profile times the eager step (a compiled graph has no layers left to time)")
    if args.check:
        sys.exit(0 if check(args) else 1)
    if args.profile:
        profile(args)
        return
    run(args)


if __name__ == "__main__":
    main()
