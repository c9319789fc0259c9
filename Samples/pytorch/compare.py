#!/usr/bin/env python3
"""Benchmark btviz against the same VGG-6 network and step in PyTorch, side by side (and the SR network:
rows sr, sr512, with srnet.py).

For every row, PyTorch is first probed in each configuration (contiguous and channels_last, each eager and with
torch.compile where it compiles), one run each; the fastest is the row's anchor. Then btviz and the anchor run
alternately (btviz, PyTorch, btviz, PyTorch, ...), each run a fresh subprocess; every pair gives a btviz/PyTorch
ratio, and the row reports the median of those ratios.
The first run creates Samples/pytorch/.venv and installs torch==2.13.0+cpu into it.

    python3 Samples/pytorch/compare.py                      # every row, 5 pairs each
    python3 Samples/pytorch/compare.py --rows k16,infer --pairs 3 --steps 10
    python3 Samples/pytorch/compare.py --scaling            # K = 16..128 on 1x28x28 and 3x32x32, % of FMA peak
    python3 Samples/pytorch/compare.py --profile-layers 64  # btviz's and PyTorch's per-layer times
    python3 Samples/pytorch/compare.py --scaling-threads 1,2,4,8,16 --rows k16,k64   # both sides at each thread count

This is a benchmark, not a test: it prints figures and never fails on a slow machine.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VENV = HERE / ".venv"
VENV_PY = VENV / "bin" / "python"
TORCH_PIN = "torch==2.13.0+cpu"
TORCH_FALLBACK = "torch==2.13.0"

# Each row: what both sides run, which number is compared, and the target for the ratio
# (the targets are the speed issue's table).
#   cmp "ge": the ratio must be at least the target; "le": at most. The regularizer row is btviz against itself.
#   Optional keys: classes (default 10), shares (reuse another row's runs), btviz_only; task (with scale, and
#   patch + batch for training or infer_size for inference): the SR network (srnet.py, `btviz bench --task`)
#   instead of VGG-6, with the row's own batch; steps_scale: the row's runs time that many times --steps (an
#   inference step costs about a fifth of a training step; at 20 steps a run lasted 0.2-0.4 s and one scheduler
#   hiccup moved its figure by a third); model="resnet" with depth: the CIFAR ResNet (resnet.py bench,
#   `btviz bench --model resnet --depth`) instead of VGG-6(K).
ROWS = {
    "k16":   dict(short="train K=16 1x28x28", title="training samples/s, K=16, 1x28x28",
                  k=16, input="1x28x28", mode="train", key="train_samples_per_s", cmp="ge", target=1.5),
    "k32":   dict(short="train K=32 1x28x28", title="training samples/s, K=32, 1x28x28",
                  k=32, input="1x28x28", mode="train", key="train_samples_per_s", cmp="ge", target=1.3),
    "k64":   dict(short="train K=64 1x28x28", title="training samples/s, K=64, 1x28x28",
                  k=64, input="1x28x28", mode="train", key="train_samples_per_s", cmp="ge", target=1.3),
    "rgb":   dict(short="train K=16 3x32x32", title="training samples/s, K=16, 3x32x32",
                  k=16, input="3x32x32", mode="train", key="train_samples_per_s", cmp="ge", target=1.5),
    # CIFAR-10 / SVHN and ImageNet 64x64 shapes (issue 11); K=16 at 3x32x32 is the rgb row.
    "rgb32": dict(short="train K=32 3x32x32", title="training samples/s, K=32, 3x32x32",
                  k=32, input="3x32x32", mode="train", key="train_samples_per_s", cmp="ge", target=1.3),
    "rgb64": dict(short="train K=64 3x32x32", title="training samples/s, K=64, 3x32x32",
                  k=64, input="3x32x32", mode="train", key="train_samples_per_s", cmp="ge", target=1.3),
    "in64":  dict(short="train K=64 3x64x64 1000 cl", title="training samples/s, K=64, 3x64x64, 1000 classes",
                  k=64, input="3x64x64", classes=1000, mode="train", key="train_samples_per_s", cmp="ge", target=1.3),
    "k128rgb": dict(short="train K=128 3x32x32", title="training samples/s, K=128, 3x32x32",
                    k=128, input="3x32x32", mode="train", key="train_samples_per_s", cmp="ge", target=1.2),
    "infer": dict(short="infer K=16 1x28x28", title="inference samples/s, K=16, 1x28x28",
                  k=16, input="1x28x28", mode="infer", key="infer_samples_per_s", cmp="ge", target=1.5, steps_scale=5),
    "infer64": dict(short="infer K=64 1x28x28", title="inference samples/s, K=64, 1x28x28",
                    k=64, input="1x28x28", mode="infer", key="infer_samples_per_s", cmp="ge", target=1.5,
                    steps_scale=5),
    # ResNet-20 on CIFAR's shape (issue 33)
    "r20":   dict(short="train ResNet-20 3x32x32", title="training samples/s, ResNet-20, 3x32x32",
                  model="resnet", depth=20, input="3x32x32", mode="train", key="train_samples_per_s", cmp="ge",
                  target=1.5),
    "r20infer": dict(short="infer ResNet-20 3x32x32", title="inference samples/s, ResNet-20, 3x32x32",
                     model="resnet", depth=20, input="3x32x32", mode="infer", key="infer_samples_per_s", cmp="ge",
                     target=1.5, steps_scale=5),
    # the memory row reads the k16 row's runs when both are chosen (each run is its own process)
    "mem":   dict(short="peak RSS MB, train K=16", title="peak resident memory MB, K=16 training",
                  k=16, input="1x28x28", mode="train", key="peak_rss_mb", cmp="le", target=0.5, shares="k16"),
    # the super-resolution network (issue: SR/denoising); btviz needs `bench --task`
    "sr":    dict(short="train SR x2 48x48, batch 16", title="train SR x2 48x48 patches, batch 16",
                  task="sr", scale=2, patch=48, batch=16, mode="train", key="train_samples_per_s", cmp="ge",
                  target=1.3),
    "sr512": dict(short="infer SR x2 512x512", title="infer SR x2 on a 512x512 image",
                  task="sr", scale=2, infer_size=512, mode="infer", key="infer_samples_per_s", cmp="ge",
                  target=1.3),
    "reg":   dict(short="regularizer cost, % of step", title="regularizer cost, % of btviz's lambda=0.1 step "
                  "time (btviz only)", k=16, input="1x28x28", mode="train", key="train_samples_per_s", cmp="le",
                  target=10.0, btviz_only=True),
}

# PyTorch configurations the probe tries: memory format, with or without torch.compile (inductor).
TORCH_CONFIGS = ("channels_last", "contiguous", "channels_last+compile", "contiguous+compile")
SCALING_KS = (16, 32, 64, 128)
SCALING_INPUTS = ("1x28x28", "3x32x32")
BUSY_LIMIT = 25  # % of the machine's CPU used by other work above which the figures get a warning
RUN_TIMEOUT = 3600  # s per subprocess (a compile on a busy 2-core machine can take minutes)


def say(*a):
    print(*a, flush=True)


# --------------------------------------------------------------------------------------------------------------
# PyTorch in its own virtual environment
# --------------------------------------------------------------------------------------------------------------

def torch_version():
    if not VENV_PY.exists():
        return None
    r = subprocess.run([str(VENV_PY), "-W", "ignore", "-c", "import torch; print(torch.__version__)"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_numpy():
    """The ResNet reference (resnet.py) reads CIFAR through numpy, which torch's wheel does not pull in."""
    if subprocess.run([str(VENV_PY), "-c", "import numpy"], capture_output=True).returncode == 0:
        return
    say(f"installing numpy into {VENV}")
    if subprocess.run([str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check", "numpy"]).returncode != 0:
        sys.exit(f"could not install numpy into {VENV}; the ResNet rows need it")


def ensure_torch():
    """Returns the torch version in .venv, creating the venv and installing torch (and numpy) first if needed."""
    v = torch_version()
    if v:
        ensure_numpy()
        return v
    if not VENV_PY.exists():
        say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(VENV_PY), "-m", "pip", "install", "--disable-pip-version-check"]
    say(f"installing {TORCH_PIN} into {VENV} (pip's own index and find-links settings apply)")
    if subprocess.run(pip + [TORCH_PIN]).returncode != 0:
        say(f"\n{TORCH_PIN} is not available from this pip configuration (PyPI itself does not carry the +cpu "
            f"builds; they live on download.pytorch.org). Trying {TORCH_FALLBACK} from PyPI: on Linux x86-64 "
            f"that is the CUDA build, which also runs on the CPU but downloads several GB of CUDA libraries.\n")
        if subprocess.run(pip + [TORCH_FALLBACK]).returncode != 0:
            sys.exit("could not install torch; install it into Samples/pytorch/.venv by hand, e.g.\n"
                     f"  {VENV_PY} -m pip install {TORCH_PIN} --index-url https://download.pytorch.org/whl/cpu")
    v = torch_version()
    if not v:
        sys.exit(f"torch installed but does not import in {VENV_PY}")
    say(f"installed torch {v}")
    ensure_numpy()
    return v


def proc_stat():
    """(all jiffies, busy jiffies) of the whole machine from /proc/stat, or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(v), sum(v) - v[3] - v[4]


def cpu_busy(seconds=1.0):
    """Share of the machine's CPU time (%) used over `seconds`, from /proc/stat; None where there is none."""
    a = proc_stat()
    time.sleep(seconds)
    b = proc_stat()
    if a is None or b is None:
        return None
    return 100 * (b[1] - a[1]) / max(b[0] - a[0], 1)


class OtherWork:
    """The share of the machine's CPU that other work used since construction: /proc/stat's busy time less this
    script's and its (finished) subprocesses' CPU time."""

    def __init__(self):
        self.stat, self.times = proc_stat(), os.times()

    def share(self):
        now, t = proc_stat(), os.times()
        if self.stat is None or now is None:
            return None
        total = now[0] - self.stat[0]
        ours = sum(getattr(t, f) - getattr(self.times, f)
                   for f in ("user", "system", "children_user", "children_system")) * os.sysconf("SC_CLK_TCK")
        return max(0.0, 100 * (now[1] - self.stat[1] - ours) / max(total, 1))


def busy_note(work, what, runs=()):
    """Prints how busy the machine was with other work during `what` and returns the share (%); with
    --quiet-wait (which waits out busy spells and repeats disturbed runs) the most in any one run kept."""
    shares = [j["_other_work"] for j in runs if j.get("_other_work") is not None]
    if QUIET_WAIT > 0 and shares:
        share, what = max(shares), f"the runs kept for {what} (the most in any one run)"
    else:
        share = work.share()
    if share is None:
        return None
    if share > BUSY_LIMIT:
        say(f"  warning: other work used {share:.0f}% of the CPU during {what}: these figures are noisy "
            f"(PyTorch's OpenMP threads suffer more from sharing cores than btviz's workers do)")
    else:
        say(f"  other work during {what}: {share:.0f}% of the CPU")
    return round(share, 1)


# --------------------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------------------

QUIET_WAIT = 0.0  # --quiet-wait: seconds to wait, before each run, for other work to leave the CPU


def wait_for_quiet():
    """Waits (at most QUIET_WAIT s) until other work keeps the CPU under BUSY_LIMIT % for a second."""
    t0 = time.time()
    waited = False
    while True:
        busy = cpu_busy(1.0)
        if busy is None or busy <= BUSY_LIMIT:
            break
        if time.time() - t0 > QUIET_WAIT:
            say(f"    (the CPU is still {busy:.0f}% busy after waiting {QUIET_WAIT:.0f} s: running anyway)")
            return
        waited = True
        time.sleep(2)
    if waited:
        say(f"    (waited {time.time() - t0:.0f} s for the CPU to be quiet)")


def other_mark(j):
    """' [other work N%]' when other work used more than BUSY_LIMIT % of the CPU during that run."""
    share = j.get("_other_work")
    return f"  [other work {share:.0f}%]" if share is not None and share > BUSY_LIMIT else ""


class RunFailed(Exception):
    """A btviz or PyTorch run that had to succeed failed: the row (or mode) stops with this message."""


RERUNS = 2  # with --quiet-wait: how many times a run that other work disturbed is repeated


def run_json(cmd, fatal=True):
    """The last JSON line a subprocess prints, plus "_other_work": the share of the CPU (%) other work used
    meanwhile. With fatal=False a failure returns {"run_error": why}. With --quiet-wait, a run during which
    other work took more than BUSY_LIMIT % of the CPU is repeated (at most RERUNS times), whichever side it is."""
    for attempt in range(RERUNS + 1 if QUIET_WAIT > 0 else 1):
        j = run_json_once(cmd, fatal)
        share = j.get("_other_work")
        if share is None or share <= BUSY_LIMIT or "run_error" in j or attempt == RERUNS:
            return j
        say(f"    (other work took {share:.0f}% of the CPU during that run: repeating it)")
    return j


def run_json_once(cmd, fatal=True):
    if QUIET_WAIT > 0:
        wait_for_quiet()
    work = OtherWork()
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        if fatal:
            raise RunFailed(f"timed out after {RUN_TIMEOUT} s: {' '.join(cmd)}")
        return {"run_error": f"timed out after {RUN_TIMEOUT} s"}
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        tail = (r.stderr.strip().splitlines() or r.stdout.strip().splitlines() or ["no output"])[-1]
        if not fatal:
            return {"run_error": f"exit {r.returncode}: {tail[:200]}"}
        if r.returncode != 0:
            raise RunFailed(f"failed ({r.returncode}): {' '.join(cmd)}: {tail[:300]}")
        raise RunFailed(f"no JSON from: {' '.join(cmd)}\n{r.stdout}{r.stderr}\n"
                        "(an old btviz build? `btviz bench --json` is needed: run `swift build -c release`)")
    j = json.loads(lines[-1])
    share = work.share()
    j["_other_work"] = None if share is None else round(share, 1)
    return j


def run_text(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if r.returncode != 0:
        raise RunFailed(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    return r.stdout


def classes_args(row):
    c = row.get("classes", 10)
    return ["--classes", str(c)] if c != 10 else []


def task_args(row):
    """The SR rows' network and data options, the same for `btviz bench` and srnet.py."""
    cmd = ["--task", row["task"], "--scale", str(row["scale"])]
    if row["mode"] == "train":
        return cmd + ["--patch", str(row["patch"]), "--batch", str(row["batch"])]
    return cmd + ["--infer-size", str(row["infer_size"])]


def network_args(row):
    """A classification row's network and input, the same options for `btviz bench` and the PyTorch script's."""
    if row.get("model") == "resnet":
        return ["--depth", str(row["depth"]), "--input", row["input"]]
    return ["--k", str(row["k"]), "--input", row["input"]]


def torch_script(row):
    """The PyTorch side of a classification row: resnet.py's bench mode or vgg6.py."""
    if row.get("model") == "resnet":
        return [str(HERE / "resnet.py"), "bench"]
    return [str(HERE / "vgg6.py")]


def row_steps(args, row, steps=None):
    """Timed steps of one run of the row: `steps` (else --steps) times the row's steps_scale."""
    return (steps or args.steps) * row.get("steps_scale", 1)


def btviz_cmd(args, row, lam, steps=None, extra=()):
    steps = row_steps(args, row, steps)
    if row.get("task"):
        return [args.btviz, "bench", *task_args(row), "--method", args.method, "--lambda", str(lam),
                "--threads", str(args.threads), "--warmup", str(args.warmup), "--steps", str(steps),
                "--mode", row["mode"], "--json", *extra]
    model = ["--model", row["model"]] if row.get("model") else []
    return [args.btviz, "bench", *model, *network_args(row), "--method", args.method,
            "--lambda", str(lam), "--batch", str(args.batch), "--threads", str(args.threads),
            "--warmup", str(args.warmup), "--steps", str(steps), "--mode", row["mode"], "--json",
            *classes_args(row), *extra]


def torch_cmd(args, row, config, fma_peak=None, steps=None):
    fmt_, _, compiled = config.partition("+")
    steps = row_steps(args, row, steps)
    if row.get("task"):
        cmd = [str(VENV_PY), str(HERE / "srnet.py"), *task_args(row), "--method", args.method,
               "--lambda", str(args.torch_lambda), "--threads", str(args.threads), "--warmup", str(args.warmup),
               "--steps", str(steps), "--mode", row["mode"], "--memory-format", fmt_,
               "--adam", args.adam, "--json"]
        return cmd + (["--compile"] if compiled else []) + (["--fma-peak", str(fma_peak)] if fma_peak else [])
    cmd = [str(VENV_PY), *torch_script(row), *network_args(row), "--method", args.method, "--lambda", str(args.torch_lambda), "--batch", str(args.batch),
           "--threads", str(args.threads), "--warmup", str(args.warmup), "--steps", str(steps),
           "--mode", row["mode"], "--memory-format", fmt_, "--adam", args.adam, "--json", *classes_args(row)]
    if compiled:
        cmd.append("--compile")
    if fma_peak:
        cmd += ["--fma-peak", str(fma_peak)]
    return cmd


def torch_run(args, row, config, fma_peak=None, steps=None):
    """One PyTorch run; {"unavailable": why} when torch.compile failed or the run crashed."""
    j = run_json(torch_cmd(args, row, config, fma_peak, steps), fatal=False)
    if "run_error" in j:
        return {"unavailable": j["run_error"]}
    if "compile_error" in j:
        return {"unavailable": f"torch.compile failed: {j['compile_error']}"}
    return j


def fmt(v):
    if abs(v) < 10:  # two more digits for small figures, e.g. sr512's images/s
        return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}"
    return f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}"


def probe(args, row, steps=None, interleave=None):
    """Runs every PyTorch configuration once; prints each figure and returns (anchor, {config: json}).
    `interleave`, if given, is called before every configuration and once after the last (btviz runs)."""
    key = row["key"] if row["key"] != "peak_rss_mb" else f"{row['mode']}_samples_per_s"
    found = {}
    say(f"  PyTorch probe, one run per configuration ({key}{', between btviz runs' if interleave else ''}):")
    for config in args.torch_configs:
        if interleave:
            interleave()
        j = torch_run(args, row, config, steps=steps)
        found[config] = j
        if "unavailable" in j:
            say(f"    {config:<22} unavailable: {j['unavailable'][:200]}")
            continue
        comp = ""
        if j.get("compile"):
            comp = f"  (compiled in {j.get('compile_s', 0):.0f} s, untimed)"
            if any(k.endswith("_recompiled_while_timed") for k in j):
                comp += " (recompiled during the timed steps!)"
        say(f"    {config:<22} {fmt(j[key]):>8} samples/s  {fmt(j['peak_rss_mb']):>6} MB{comp}{other_mark(j)}")
    if interleave:
        interleave()
    ok = {c: j for c, j in found.items() if "unavailable" not in j}
    if not ok:
        raise RunFailed("no PyTorch configuration ran (see the probe above)")
    anchor = max(ok, key=lambda c: ok[c][key])
    return anchor, found


BENCH_HELP = {}


def btviz_supports(args, option):
    """Whether this btviz's `bench --help` lists `option` (rows with other classes need `--classes`)."""
    if args.btviz not in BENCH_HELP:
        r = subprocess.run([args.btviz, "bench", "--help"], capture_output=True, text=True)
        BENCH_HELP[args.btviz] = r.stdout + r.stderr
    return option in BENCH_HELP[args.btviz]


def measure_row(name, args, cache):
    try:
        return measure_row_runs(name, args, cache)
    except RunFailed as e:
        say(f"  row failed: {e}")
        row = ROWS[name]
        return dict(row=name, title=row["title"], failed=str(e), cmp=row["cmp"],
                    target=args.targets.get(name, row["target"]), met=False, anchor=None, busy=None, unit="")


def measure_row_runs(name, args, cache):
    row = ROWS[name]
    group = row.get("shares", name)
    pairs, kept = [], []
    work = OtherWork()
    say(f"\n[{name}] {row['title']}")
    if classes_args(row) and not btviz_supports(args, "--classes"):
        raise RunFailed(f"this btviz has no `bench --classes` (the row needs {row['classes']} classes): rebuild it")
    if row.get("model") and not btviz_supports(args, "--model"):
        raise RunFailed(f"this btviz has no `bench --model` (the row needs --model {row['model']}): rebuild it")
    if row.get("task") and not btviz_supports(args, "--task"):
        return task_unsupported(name, row, args, work)
    if row.get("btviz_only"):
        say(f"  btviz {args.method} lambda=0.1 against btviz lambda=0; cost = 1 - (lambda=0.1 samples/s) / "
            f"(lambda=0 samples/s)")
    else:
        say(f"  btviz {args.method} lambda={args.lam} | PyTorch {args.method} lambda={args.torch_lambda}"
            f"{' (plain step, no regularizer)' if args.torch_lambda == 0 else ' (with the transition regularizer)'}")
        if (group, "probe") not in cache:
            cache[(group, "probe")] = probe(args, row)
        else:
            say(f"  (the probe and pairs of row {group})")
        anchor, probes = cache[(group, "probe")]
        say(f"  anchor: {anchor} (the fastest configuration in the probe)")
    for i in range(args.pairs):
        if row.get("btviz_only"):
            a = run_json(btviz_cmd(args, row, 0.1))
            b = run_json(btviz_cmd(args, row, 0.0))
            kept += [a, b]
            va, vb = a[row["key"]], b[row["key"]]
            value = 100 * (1 - va / vb)
            say(f"  pair {i + 1}: lambda=0.1 {fmt(va)}  lambda=0 {fmt(vb)} samples/s  cost {value:.1f}%"
                f"{other_mark(a) or other_mark(b)}")
        else:
            if (group, i) not in cache:
                a = run_json(btviz_cmd(args, row, args.lam))
                b = torch_run(args, row, anchor, a.get("fma_peak_gflops"))
                if "unavailable" in b:
                    raise RunFailed(f"the anchor {anchor} failed in pair {i + 1}: {b['unavailable']}")
                cache[(group, i)] = (a, b)
            a, b = cache[(group, i)]
            kept += [a, b]
            va, vb = a[row["key"]], b[row["key"]]
            value = va / vb
            say(f"  pair {i + 1}: btviz {fmt(va)}  PyTorch {fmt(vb)}  btviz/PyTorch {value:.3f}"
                f"{other_mark(a) or other_mark(b)}")
        pairs.append((va, vb, value))
    med = statistics.median(p[2] for p in pairs)
    ma = statistics.median(p[0] for p in pairs)
    mb = statistics.median(p[1] for p in pairs)
    target = args.targets.get(name, row["target"])
    met = med >= target if row["cmp"] == "ge" else med <= target
    unit = "%" if row.get("btviz_only") else ""
    say(f"  median: {fmt(ma)} | {fmt(mb)}  -> {fmt(med) if unit else f'{med:.3f}'}{unit} "
        f"(median of the pairs; target {'>=' if row['cmp'] == 'ge' else '<='} {target}{unit}: "
        f"{'met' if met else 'missed'})")
    result = dict(row=name, title=row["title"], btviz=ma, other=mb, value=med, unit=unit, cmp=row["cmp"],
                  target=target, met=met, pairs=pairs, anchor=None)
    if not row.get("btviz_only"):
        result.update(anchor=anchor, probe=probes)
        if row["key"] == "peak_rss_mb":
            ok = {c: j for c, j in probes.items() if "unavailable" not in j}
            lean = min(ok, key=lambda c: ok[c]["peak_rss_mb"])
            say(f"  (the leanest configuration in the probe, {lean}, peaked at {fmt(ok[lean]['peak_rss_mb'])} MB: "
                f"btviz/that = {ma / ok[lean]['peak_rss_mb']:.3f})")
    if not row.get("btviz_only"):
        kept += [j for j in probes.values() if "unavailable" not in j]
    result["busy"] = busy_note(work, "this row", kept)
    return result


NO_TASK = "btviz does not support --task yet"


def task_unsupported(name, row, args, work):
    """An SR row with a btviz whose `bench` has no --task: the PyTorch probe alone, no pairs, no ratio."""
    say(f"  {NO_TASK} (`{args.btviz} bench --help` lists no --task): no btviz runs and no ratio for this row; "
        f"the PyTorch side alone")
    anchor, probes = probe(args, row)
    say(f"  anchor: {anchor} (the fastest configuration in the probe)")
    kept = [j for j in probes.values() if "unavailable" not in j]
    return dict(row=name, title=row["title"], skipped=NO_TASK, btviz=None, other=probes[anchor][row["key"]],
                value=None, unit="", cmp=row["cmp"], target=args.targets.get(name, row["target"]), met=False,
                pairs=[], anchor=anchor, probe=probes, busy=busy_note(work, "this row", kept))


def summary(results, args, version):
    say("\n" + "=" * 112)
    say(f"btviz ({args.btviz}) against PyTorch {version}, {args.threads} threads, batch {args.batch}, method "
        f"{args.method}, {args.warmup} warm-up + {args.steps} timed steps (the inference rows infer, infer64 and "
        f"r20infer: {row_steps(args, ROWS['infer'])}), {args.pairs} alternating pairs per row")
    say(f"btviz trains with lambda={args.lam}; PyTorch trains with lambda={args.torch_lambda} "
        + ("(quantize, forward, cross-entropy, backward, Adam: no regularizer)" if args.torch_lambda == 0 else
           "(quantize, forward, cross-entropy, backward, transition-regularizer gradient, Adam)")
        + f"; Adam {args.adam}")
    say(f"PyTorch configurations probed per row: {', '.join(args.torch_configs)}; the fastest is the anchor")
    say("-" * 112)
    say(f"{'row':<8} {'what':<28} {'btviz':>9} {'PyTorch':>9} {'anchor':<22} {'ratio':>8} {'target':>8}  result")
    for r in results:
        if r.get("failed"):
            target = f"{'>=' if r['cmp'] == 'ge' else '<='}{r['target']}"
            say(f"{r['row']:<8} {ROWS[r['row']]['short']:<28} {'-':>9} {'-':>9} {'-':<22} {'-':>8} {target:>8}  "
                f"FAILED: {r['failed'][:120]}")
            continue
        if r.get("skipped"):
            target = f"{'>=' if r['cmp'] == 'ge' else '<='}{r['target']}"
            say(f"{r['row']:<8} {ROWS[r['row']]['short']:<28} {'-':>9} {fmt(r['other']):>9} {r['anchor']:<22} "
                f"{'-':>8} {target:>8}  skipped: {r['skipped']}")
            continue
        value = f"{r['value']:.1f}%" if r["unit"] else f"{r['value']:.3f}"
        target = f"{'>=' if r['cmp'] == 'ge' else '<='}{r['target']}{r['unit']}"
        busy = "  (busy)" if r.get("busy") is not None and r["busy"] > BUSY_LIMIT else ""
        say(f"{r['row']:<8} {ROWS[r['row']]['short']:<28} {fmt(r['btviz']):>9} {fmt(r['other']):>9} "
            f"{r['anchor'] or '-':<22} {value:>8} {target:>8}  {'met' if r['met'] else 'MISSED'}{busy}")
    if any(r["unit"] for r in results):
        say("reg: btviz against itself; its 'btviz' column is lambda=0.1 samples/s, 'PyTorch' column lambda=0 "
            "samples/s, ratio = the regularizer's share of the lambda=0.1 step time")
    if any(ROWS[r["row"]].get("model") == "resnet" for r in results):
        say("r20, r20infer: ResNet-20 (resnet.py bench; btviz bench --model resnet --depth 20), first conv and FC "
            "float32, the 18 block convs quantized")
    if any(ROWS[r["row"]].get("task") for r in results):
        say("sr, sr512: the SR x2 network (srnet.py; MSE instead of cross-entropy); sr trains batches of 16 patches "
            "of 48x48 (input 24x24) whatever --batch says, samples/s = patches/s; sr512 infers one 512x512 image "
            "(output 1024x1024) per step, samples/s = images/s")
    say("ratio = median over pairs of btviz/PyTorch (samples/s: higher is better for btviz; memory: lower is)")
    say(f"[other work N%] after a probe or pair: other work took more than {BUSY_LIMIT}% of the CPU during it")
    if any(r.get("busy") is not None and r["busy"] > BUSY_LIMIT for r in results):
        say(f"(busy) = other work used more than {BUSY_LIMIT}% of the CPU during the row"
            + (" (in one of the runs kept)" if QUIET_WAIT > 0 else ""))


# --------------------------------------------------------------------------------------------------------------
# --scaling
# --------------------------------------------------------------------------------------------------------------

def scaling_steps(args, k):
    """Timed steps per run: all of --steps up to K=32, half at 64, a quarter at 128 (at least 3)."""
    return args.steps if k <= 32 else max(3, args.steps * 32 // k)


def scaling(args, version):
    cells = []
    say(f"\nscaling: training samples/s, K = {', '.join(map(str, SCALING_KS))} on "
        f"{' and '.join(SCALING_INPUTS)}; batch {args.batch}, {args.threads} threads, method {args.method}; "
        f"btviz lambda={args.lam}, PyTorch lambda={args.torch_lambda}")
    say(f"per cell: btviz runs alternate with one PyTorch run per configuration ({', '.join(args.torch_configs)});"
        f" btviz = median of its runs, PyTorch = its fastest configuration")
    say(f"timed steps per run: {', '.join(f'K={k}: {scaling_steps(args, k)}' for k in SCALING_KS)} "
        f"(fewer at large K), {args.warmup} warm-up steps")
    for inp in SCALING_INPUTS:
        for k in SCALING_KS:
            row = dict(k=k, input=inp, mode="train", key="train_samples_per_s")
            steps = scaling_steps(args, k)
            say(f"\n[K={k} {inp}]")
            work = OtherWork()
            runs = []

            def btviz_run():
                j = run_json(btviz_cmd(args, row, args.lam, steps))
                runs.append(j)
                say(f"    {'btviz':<22} {fmt(j['train_samples_per_s']):>8} samples/s  {j['train_gflops']:6.1f} "
                    f"GFLOP/s (its FMA peak measurement: {j['fma_peak_gflops']:.0f}){other_mark(j)}")

            anchor, probes = probe(args, row, steps, interleave=btviz_run)
            best = probes[anchor]
            busy = busy_note(work, "this cell", runs + [j for j in probes.values() if "unavailable" not in j])
            sps = statistics.median(j["train_samples_per_s"] for j in runs)
            gf = statistics.median(j["train_gflops"] for j in runs)
            cells.append(dict(k=k, input=inp, steps=steps, btviz=sps, btviz_gflops=gf,
                              btviz_peaks=[j["fma_peak_gflops"] for j in runs], anchor=anchor,
                              torch=best["train_samples_per_s"], torch_gflops=best["train_gflops"],
                              ratio=sps / best["train_samples_per_s"], busy=busy, probe=probes))
    peak = max(p for c in cells for p in c["btviz_peaks"])
    say("\n" + "=" * 112)
    say(f"scaling table: training, batch {args.batch}, {args.threads} threads, {args.method}; btviz lambda={args.lam},"
        f" PyTorch lambda={args.torch_lambda}; PyTorch {version} at its fastest configuration per cell")
    say(f"% of peak = GFLOP/s (6 x forward MACs per sample, both sides) / {peak:.0f} GFLOP/s, the highest FMA peak "
        f"btviz measured in this run")
    say("-" * 112)
    say(f"{'input':<8} {'K':>4} {'steps':>5} | {'btviz /s':>9} {'GFLOP/s':>8} {'% peak':>7} | "
        f"{'PyTorch best config':<22} {'/s':>8} {'GFLOP/s':>8} {'% peak':>7} | {'btviz/PT':>8}")
    for c in cells:
        busy = "  (busy)" if c["busy"] is not None and c["busy"] > BUSY_LIMIT else ""
        say(f"{c['input']:<8} {c['k']:>4} {c['steps']:>5} | {fmt(c['btviz']):>9} {c['btviz_gflops']:>8.1f} "
            f"{100 * c['btviz_gflops'] / peak:>6.1f}% | {c['anchor']:<22} {fmt(c['torch']):>8} "
            f"{c['torch_gflops']:>8.1f} {100 * c['torch_gflops'] / peak:>6.1f}% | {c['ratio']:>8.3f}{busy}")
    if any(c["busy"] is not None and c["busy"] > BUSY_LIMIT for c in cells):
        say(f"(busy) = other work used more than {BUSY_LIMIT}% of the CPU during the cell"
            + (" (in one of the runs kept)" if QUIET_WAIT > 0 else ""))
    return dict(peak_gflops=peak, cells=cells)


# --------------------------------------------------------------------------------------------------------------
# --scaling-threads
# --------------------------------------------------------------------------------------------------------------

def scaling_threads(args, rows, version):
    """Each row at each thread count: btviz against PyTorch's fastest configuration at that count (probed again
    per count: the fastest at 2 threads need not be at 16), alternating pairs as the rows do. The table gives each
    side's samples/s, its speedup over the first count, and the ratio."""
    cores = os.cpu_count() or 1
    cells = []
    for t in args.scaling_threads:
        if t > cores:
            say(f"\nnote: {t} threads on a machine with {cores} cores: oversubscribed, its figures say little")
        args.threads = t
        cache = {}
        for r in rows:
            say(f"\n== {t} threads")
            cells.append(dict(threads=t, **measure_row(r, args, cache)))
    say("\n" + "=" * 100)
    say(f"threads table: batch {args.batch}, {args.method}; btviz lambda={args.lam}, PyTorch {version} lambda="
        f"{args.torch_lambda} at its fastest configuration per cell; medians of {args.pairs} alternating pairs")
    say("-" * 100)
    say(f"{'row':<22} {'threads':>7} | {'btviz /s':>9} {'speedup':>7} | {'PyTorch best':<22} {'/s':>9} "
        f"{'speedup':>7} | {'btviz/PT':>8}")
    for r in rows:
        mine = [c for c in cells if c["row"] == r and "failed" not in c]
        if not mine:
            say(f"{ROWS[r]['short']:<22} (failed)")
            continue
        base = mine[0]
        for c in mine:
            say(f"{ROWS[r]['short']:<22} {c['threads']:>7} | {fmt(c['btviz']):>9} {c['btviz'] / base['btviz']:>6.2f}x | "
                f"{str(c['anchor']):<22} {fmt(c['other']):>9} {c['other'] / base['other']:>6.2f}x | {c['value']:>8.3f}")
    return dict(cores=cores, cells=cells)


# --------------------------------------------------------------------------------------------------------------
# --profile-layers
# --------------------------------------------------------------------------------------------------------------

PROFILE_ROW = re.compile(r"^  (.{32}) +(-?[\d.]+) +(-?[\d.]+) +[\d.]+%$")


def parse_btviz_profile(text):
    """[(name, forward ms, backward ms)] of `btviz bench --profile`'s training table, its total, and its peak."""
    rows, total, peak, inside = [], None, None, False
    for line in text.splitlines():
        m = re.match(r"measured FMA peak: ([\d.]+) GFLOP/s", line)
        if m:
            peak = float(m.group(1))
        if line.startswith("profile of one training step"):
            inside = True
            continue
        if not inside:
            continue
        if line.startswith("  total"):
            total = float(line.split()[-1])
            inside = False
            continue
        m = PROFILE_ROW.match(line)
        if m:
            rows.append((m.group(1).strip(), float(m.group(2)), float(m.group(3))))
    return rows, total, peak


def stage_key(name):
    m = re.match(r"(conv|bn|fc)(\d+)", name)
    if m:
        return m.group(1) + m.group(2)
    return {"quantizer backward+update": "qupdate"}.get(name, name.split()[0])


def stage_flops(name, batch):
    """(forward, backward) FLOPs of one step of a conv or FC stage, from btviz's stage name; None otherwise.
    conv: 2*9*cin*cout*h*w per sample forward, twice that backward (input and weight gradients), except conv1,
    whose input needs no gradient; FC: 2*in*out, likewise."""
    m = re.match(r"conv(\d+) (\d+)->(\d+) @(\d+)x(\d+)", name)
    if m:
        n, cin, cout, h, w = map(int, m.groups())
        f = 2 * 9 * cin * cout * h * w * batch
        return f, f * (1 if n == 1 else 2)
    m = re.match(r"fc\d+ (\d+)->(\d+)", name)
    if m:
        f = 2 * int(m.group(1)) * int(m.group(2)) * batch
        return f, 2 * f
    return None


def fma_peak_samples(args, n=6):
    """A few quick FMA-peak measurements by btviz (one is low when another process holds a core)."""
    row = dict(k=8, input="1x28x28", mode="infer")
    out = []
    for _ in range(n):
        cmd = btviz_cmd(args, row, args.lam, steps=1)
        cmd[cmd.index("--warmup") + 1] = "0"
        out.append(run_json(cmd)["fma_peak_gflops"])
    return out


def profile_layers(args, version):
    k, inp = args.profile_layers, args.profile_input
    row = dict(k=k, input=inp, mode="train")
    work = OtherWork()
    say(f"\nper-layer profile of one training step: VGG-6({k}) on {inp}, batch {args.batch}, {args.threads} threads, "
        f"{args.method}; btviz lambda={args.lam}, PyTorch lambda={args.torch_lambda}")
    cmd = btviz_cmd(args, row, args.lam)
    cmd.remove("--json")
    text = run_text(cmd + ["--profile"])
    brows, btotal, bpeak = parse_btviz_profile(text)
    if not brows:
        sys.exit(f"no profile table in `{' '.join(cmd)} --profile`'s output:\n{text}")
    peaks = [bpeak] + fma_peak_samples(args)
    peak = max(p for p in peaks if p)
    formats = [c for c in ("channels_last", "contiguous") if c in args.torch_configs
               or c + "+compile" in args.torch_configs]
    sides = []
    for f in formats:
        cmd = [str(VENV_PY), str(HERE / "vgg6.py"), "--k", str(k), "--input", inp, "--method", args.method,
               "--lambda", str(args.torch_lambda), "--batch", str(args.batch), "--threads", str(args.threads),
               "--warmup", str(args.warmup), "--steps", str(args.steps), "--memory-format", f, "--adam", args.adam,
               "--profile", "--json"]
        j = run_json(cmd)
        sides.append((f, {r["stage"]: r for r in j["profile"]}, j))
    busy = busy_note(work, "the profiles")
    say(f"btviz: `bench --profile` (ms, median of {max(args.steps, 5)} steps); PyTorch {version}: torch.profiler, "
        f"eager (a compiled graph is fused across layers), ms, median of {max(args.steps, 5)} steps")
    say(f"% = the stage's FLOP/s / {peak:.0f} GFLOP/s, the highest FMA peak btviz measured here "
        f"({', '.join(f'{p:.0f}' for p in peaks)}); conv: 2*9*cin*cout*h*w per sample forward, 2x that backward "
        f"(1x for conv1: its input needs no gradient); fc: 2*in*out, likewise")
    say("(btviz's peak is six FMA chains per thread, which leave some FMA throughput unused: a conv can pass 100%)")

    def pct(flops, ms):
        return f"{100 * flops / (ms / 1000) / (peak * 1e9):4.0f}%" if flops and ms and ms > 0.005 else "    -"

    def cols(fwd, bwd, fl):
        if fwd is None and bwd is None:
            return f"{'-':>7} {'-':>7} {'':5} {'':5}"
        return (f"{fwd or 0:7.2f} {bwd or 0:7.2f} {pct(fl and fl[0], fwd):>5} {pct(fl and fl[1], bwd):>5}")

    head1 = f"{'':<32} {'GFLOP per step':>13} | {'btviz':^27}"
    head2 = f"{'stage':<32} {'fwd':>6} {'bwd':>6} | {'fwd ms':>7} {'bwd ms':>7} {'fwd%':>5} {'bwd%':>5}"
    for f, _, _ in sides:
        head1 += f" | {'PyTorch ' + f:^27}"
        head2 += f" | {'fwd ms':>7} {'bwd ms':>7} {'fwd%':>5} {'bwd%':>5}"
    head1 += f" | {'PT/btviz':>8}"
    head2 += f" | {'time':>8}"
    say("-" * len(head2))
    say(head1)
    say(head2)
    best = min(sides, key=lambda s: s[2]["step_ms"]) if sides else None
    seen = set()
    table = []

    def line(name, key, fwd, bwd, fl):
        gf = f"{fl[0] / 1e9:6.2f} {fl[1] / 1e9:6.2f}" if fl else f"{'':6} {'':6}"
        s = f"{name:<32} {gf} | {cols(fwd, bwd, fl)}"
        entry = dict(stage=key, name=name, flops=fl, btviz=[fwd, bwd], torch={})
        for f, rows, _ in sides:
            r = rows.get(key)
            s += " | " + (cols(r["forward_ms"], r["backward_ms"], fl) if r else cols(None, None, None))
            if r:
                entry["torch"][f] = [r["forward_ms"], r["backward_ms"]]
        r = best[1].get(key) if best else None
        if r and fwd is not None and (fwd + bwd) > 0.005:
            s += f" | {((r['forward_ms'] or 0) + r['backward_ms']) / (fwd + bwd):7.2f}x"
        else:
            s += f" | {'-':>8}"
        say(s)
        table.append(entry)

    for name, fwd, bwd in brows:
        key = stage_key(name)
        seen.add(key)
        line(name, key, fwd, bwd, stage_flops(name, args.batch))
    for f, rows, _ in sides:  # PyTorch stages btviz has no row for (e.g. "other")
        for key, r in rows.items():
            if key not in seen:
                seen.add(key)
                line(r["name"], key, None, None, None)
    tot = f"{'total':<32} {'':6} {'':6} | {btotal:15.2f} {'':11}"
    for f, _, j in sides:
        tot += f" | {j['step_ms']:15.2f} {'':11}"
    if best:
        tot += f" | {best[2]['step_ms'] / btotal:7.2f}x"
    say(tot)
    say("-" * len(head2))
    for f, _, j in sides:
        say(f"PyTorch {f}: profiled step {j['step_ms']:.1f} ms, {j['step_ms_unprofiled']:.1f} ms without the "
            f"profiler (medians)")
    if best:
        say(f"PT/btviz = PyTorch {best[0]} (the faster profiled layout) time / btviz time, forward + backward: "
            f"above 1 btviz is faster")
    return dict(k=k, input=inp, peak_gflops=peak, peaks=peaks, btviz_total_ms=btotal, stages=table,
                torch={f: j for f, _, j in sides}, busy=busy)


# --------------------------------------------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows out of {','.join(ROWS)}")
    p.add_argument("--pairs", type=int, default=5, help="alternating btviz/PyTorch pairs per row (default 5)")
    p.add_argument("--btviz", default=str(REPO / ".build" / "release" / "btviz"),
                   help="btviz binary (default: the repository's .build/release/btviz)")
    p.add_argument("--method", default="bt", choices=("full", "bwn", "twn", "bt"))
    p.add_argument("--lambda", dest="lam", type=float, default=0.1, help="btviz's regularizer weight (default 0.1)")
    p.add_argument("--torch-lambda", type=float, default=0.0,
                   help="PyTorch's regularizer weight (default 0: PyTorch runs the plain step)")
    p.add_argument("--batch", type=int, default=128, help="the VGG rows' batch (default 128; the SR rows "
                   "keep their own: sr 16 patches, sr512 one image)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--torch-configs", default=",".join(TORCH_CONFIGS), metavar="LIST",
                   help=f"PyTorch configurations to probe, out of {','.join(TORCH_CONFIGS)} (default: all)")
    p.add_argument("--memory-format", default=None, choices=("contiguous", "channels_last"),
                   help="only probe PyTorch in this layout (eager and compiled)")
    p.add_argument("--adam", default="foreach", choices=("foreach", "fused", "loop"), help="PyTorch's Adam")
    p.add_argument("--target", action="append", default=[], metavar="ROW=VALUE",
                   help="override a row's target, e.g. --target k16=1.5 --target reg=3")
    p.add_argument("--scaling", action="store_true",
                   help="instead of the rows: the scaling table (K = 16, 32, 64, 128 on 1x28x28 and 3x32x32, "
                        "training samples/s and %% of the FMA peak)")
    p.add_argument("--scaling-threads", metavar="LIST",
                   help="instead of the rows' one count: each of --rows (training and inference samples/s rows) at "
                        "each of these thread counts, e.g. 1,2,4,8,16, btviz and PyTorch's fastest configuration at "
                        "each, with each side's speedup over the first count")
    p.add_argument("--profile-layers", type=int, metavar="K",
                   help="instead of the rows: btviz's `bench --profile` beside PyTorch's per-layer times for VGG-6(K) "
                        "(VGG-6 only; resnet.py has no per-layer profile)")
    p.add_argument("--profile-input", default="1x28x28", help="input shape for --profile-layers (default 1x28x28)")
    p.add_argument("--quiet-wait", type=float, default=0, metavar="S",
                   help=f"before each run, wait up to S seconds for other work to drop under {BUSY_LIMIT}%% of the "
                        f"CPU, and repeat (up to {RERUNS} times) a run that other work disturbed all the same "
                        "(default 0: neither)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = p.parse_args()
    global QUIET_WAIT
    QUIET_WAIT = args.quiet_wait

    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown or not rows:
        p.error(f"unknown row(s) {','.join(unknown)}; choose from {','.join(ROWS)}")
    if args.pairs < 1 or args.steps < 1 or args.warmup < 0:
        p.error("need --pairs >= 1, --steps >= 1, --warmup >= 0")
    configs = [c.strip() for c in args.torch_configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in TORCH_CONFIGS]
    if bad or not configs:
        p.error(f"--torch-configs: unknown {','.join(bad)}; choose from {','.join(TORCH_CONFIGS)}")
    if args.memory_format:
        configs = [c for c in configs if c.partition("+")[0] == args.memory_format]
        if not configs:
            p.error("--memory-format leaves no configuration out of --torch-configs")
    args.torch_configs = configs
    if args.scaling_threads is not None:
        try:
            counts = [int(c) for c in args.scaling_threads.split(",") if c.strip()]
        except ValueError:
            p.error(f"--scaling-threads: a comma-separated list of thread counts, not {args.scaling_threads!r}")
        if not counts or any(c < 1 or c > 256 for c in counts):
            p.error("--scaling-threads: thread counts in 1...256")
        def against_torch(r):
            return not ROWS[r].get("btviz_only") and ROWS[r]["key"] in ("train_samples_per_s", "infer_samples_per_s")
        if args.rows == ",".join(ROWS):  # no --rows: every row this mode takes
            rows = [r for r in rows if against_torch(r)]
        bad = [r for r in rows if not against_torch(r)]
        if bad:
            p.error(f"--scaling-threads takes the samples/s rows against PyTorch; not {','.join(bad)}")
        args.scaling_threads = counts
    args.targets = {}
    for t in args.target:
        name, _, value = t.partition("=")
        if name not in ROWS:
            p.error(f"--target: unknown row {name!r}")
        args.targets[name] = float(value)
    if not (os.path.isfile(args.btviz) and os.access(args.btviz, os.X_OK)):
        sys.exit(f"btviz is not built at {args.btviz}: run `swift build -c release` in {REPO} "
                 "(or pass --btviz PATH)")

    needs_torch = args.scaling or args.profile_layers or any(not ROWS[r].get("btviz_only") for r in rows)
    version = ensure_torch() if needs_torch else (torch_version() or "-")
    say(f"PyTorch {version} from {VENV}; btviz {args.btviz}")
    busy = cpu_busy()
    if busy is not None and busy > BUSY_LIMIT:
        say(f"warning: the CPU is {busy:.0f}% busy with other work: the figures will be noisy, and PyTorch's "
            f"OpenMP threads suffer more from sharing cores than btviz's workers do")
    options = {k: v for k, v in vars(args).items()}
    try:
        out = run_mode(args, rows, version, options)
    except RunFailed as e:
        sys.exit(str(e))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


def run_mode(args, rows, version, options):
    if args.profile_layers:
        out = dict(torch=version, options=options, profile_layers=profile_layers(args, version))
    elif args.scaling:
        out = dict(torch=version, options=options, scaling=scaling(args, version))
    elif args.scaling_threads:
        out = dict(torch=version, options=options, scaling_threads=scaling_threads(args, rows, version))
    else:
        cache = {}
        results = [measure_row(r, args, cache) for r in rows]
        summary(results, args, version)
        out = dict(torch=version, options=options, rows=results)
    return out


if __name__ == "__main__":
    main()
