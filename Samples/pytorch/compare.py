#!/usr/bin/env python3
"""Benchmark btviz against the same VGG-6 network and step in PyTorch, side by side.

For every row, btviz and PyTorch run alternately (btviz, PyTorch, btviz, PyTorch, ...), each run a fresh
subprocess; every pair gives a btviz/PyTorch ratio, and the row reports the median of those ratios.
The first run creates Samples/pytorch/.venv and installs torch==2.13.0+cpu into it.

    python3 Samples/pytorch/compare.py                      # every row, 5 pairs each
    python3 Samples/pytorch/compare.py --rows k16,infer --pairs 3 --steps 10

This is a benchmark, not a test: it prints figures and never fails on a slow machine.
"""

import argparse
import json
import os
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
ROWS = {
    "k16":   dict(short="train K=16 1x28x28", title="training samples/s, K=16, 1x28x28",
                  k=16, input="1x28x28", mode="train", key="train_samples_per_s", cmp="ge", target=1.5),
    "k32":   dict(short="train K=32 1x28x28", title="training samples/s, K=32, 1x28x28",
                  k=32, input="1x28x28", mode="train", key="train_samples_per_s", cmp="ge", target=1.0),
    "k64":   dict(short="train K=64 1x28x28", title="training samples/s, K=64, 1x28x28",
                  k=64, input="1x28x28", mode="train", key="train_samples_per_s", cmp="ge", target=1.0),
    "rgb":   dict(short="train K=16 3x32x32", title="training samples/s, K=16, 3x32x32",
                  k=16, input="3x32x32", mode="train", key="train_samples_per_s", cmp="ge", target=1.5),
    "infer": dict(short="infer K=16 1x28x28", title="inference samples/s, K=16, 1x28x28",
                  k=16, input="1x28x28", mode="infer", key="infer_samples_per_s", cmp="ge", target=1.5),
    # the memory row reads the k16 row's runs when both are chosen (each run is its own process)
    "mem":   dict(short="peak RSS MB, train K=16", title="peak resident memory MB, K=16 training",
                  k=16, input="1x28x28", mode="train", key="peak_rss_mb", cmp="le", target=0.5, shares="k16"),
    "reg":   dict(short="regularizer cost, % of step", title="regularizer cost, % of btviz's lambda=0.1 step "
                  "time (btviz only)", k=16, input="1x28x28", mode="train", key="train_samples_per_s", cmp="le",
                  target=10.0, btviz_only=True),
}


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


def ensure_torch():
    """Returns the torch version in .venv, creating the venv and installing torch first if needed."""
    v = torch_version()
    if v:
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
    return v


def cpu_busy(seconds=1.0):
    """Share of the machine's CPU time (%) used over `seconds`, from /proc/stat; None where there is none."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return sum(v), v[3] + v[4]
    try:
        t1, i1 = sample()
        time.sleep(seconds)
        t2, i2 = sample()
    except (OSError, ValueError):
        return None
    return 100 * (1 - (i2 - i1) / max(t2 - t1, 1))


# --------------------------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------------------------

def run_json(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.strip()}")
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.exit(f"no JSON from: {' '.join(cmd)}\n{r.stdout}{r.stderr}\n"
                 "(an old btviz build? `btviz bench --json` is needed: run `swift build -c release`)")
    return json.loads(lines[-1])


def btviz_cmd(args, row, lam):
    return [args.btviz, "bench", "--k", str(row["k"]), "--input", row["input"], "--method", args.method,
            "--lambda", str(lam), "--batch", str(args.batch), "--threads", str(args.threads),
            "--warmup", str(args.warmup), "--steps", str(args.steps), "--mode", row["mode"], "--json"]


def torch_cmd(args, row, fma_peak):
    cmd = [str(VENV_PY), str(HERE / "vgg6.py"), "--k", str(row["k"]), "--input", row["input"],
           "--method", args.method, "--lambda", str(args.torch_lambda), "--batch", str(args.batch),
           "--threads", str(args.threads), "--warmup", str(args.warmup), "--steps", str(args.steps),
           "--mode", row["mode"], "--memory-format", args.memory_format, "--adam", args.adam, "--json"]
    if fma_peak:
        cmd += ["--fma-peak", str(fma_peak)]
    return cmd


def fmt(v):
    return f"{v:.1f}" if abs(v) < 100 else f"{v:.0f}"


def measure_row(name, args, cache):
    row = ROWS[name]
    group = row.get("shares", name)
    pairs = []
    say(f"\n[{name}] {row['title']}")
    if row.get("btviz_only"):
        say(f"  btviz {args.method} lambda=0.1 against btviz lambda=0; cost = 1 - (lambda=0.1 samples/s) / "
            f"(lambda=0 samples/s)")
    else:
        say(f"  btviz {args.method} lambda={args.lam} | PyTorch {args.method} lambda={args.torch_lambda}"
            f"{' (plain step, no regularizer)' if args.torch_lambda == 0 else ' (with the transition regularizer)'}")
    for i in range(args.pairs):
        if row.get("btviz_only"):
            a = run_json(btviz_cmd(args, row, 0.1))
            b = run_json(btviz_cmd(args, row, 0.0))
            va, vb = a[row["key"]], b[row["key"]]
            value = 100 * (1 - va / vb)
            say(f"  pair {i + 1}: lambda=0.1 {fmt(va)}  lambda=0 {fmt(vb)} samples/s  cost {value:.1f}%")
        else:
            if (group, i) not in cache:
                a = run_json(btviz_cmd(args, row, args.lam))
                b = run_json(torch_cmd(args, row, a.get("fma_peak_gflops")))
                cache[(group, i)] = (a, b)
            a, b = cache[(group, i)]
            va, vb = a[row["key"]], b[row["key"]]
            value = va / vb
            say(f"  pair {i + 1}: btviz {fmt(va)}  PyTorch {fmt(vb)}  btviz/PyTorch {value:.3f}")
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
    return dict(row=name, title=row["title"], btviz=ma, other=mb, value=med, unit=unit, cmp=row["cmp"],
                target=target, met=met, pairs=pairs)


def summary(results, args, version):
    say("\n" + "=" * 100)
    say(f"btviz ({args.btviz}) against PyTorch {version}, {args.threads} threads, batch {args.batch}, method "
        f"{args.method}, {args.warmup} warm-up + {args.steps} timed steps, {args.pairs} alternating pairs per row")
    say(f"btviz trains with lambda={args.lam}; PyTorch trains with lambda={args.torch_lambda} "
        + ("(quantize, forward, cross-entropy, backward, Adam: no regularizer)" if args.torch_lambda == 0 else
           "(quantize, forward, cross-entropy, backward, transition-regularizer gradient, Adam)")
        + f"; PyTorch layout {args.memory_format}, Adam {args.adam}")
    say("-" * 100)
    say(f"{'row':<6} {'what':<28} {'btviz':>9} {'PyTorch':>9} {'ratio':>8} {'target':>8}  result")
    for r in results:
        value = f"{r['value']:.1f}%" if r["unit"] else f"{r['value']:.3f}"
        target = f"{'>=' if r['cmp'] == 'ge' else '<='}{r['target']}{r['unit']}"
        say(f"{r['row']:<6} {ROWS[r['row']]['short']:<28} {fmt(r['btviz']):>9} {fmt(r['other']):>9} {value:>8} "
            f"{target:>8}  {'met' if r['met'] else 'MISSED'}")
    if any(r["unit"] for r in results):
        say("reg: btviz against itself; its 'btviz' column is lambda=0.1 samples/s, 'PyTorch' column lambda=0 "
            "samples/s, ratio = the regularizer's share of the lambda=0.1 step time")
    say("ratio = median over pairs of btviz/PyTorch (samples/s: higher is better for btviz; memory: lower is)")


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
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--memory-format", default="channels_last", choices=("contiguous", "channels_last"),
                   help="PyTorch's tensor layout (default channels_last, the faster one here)")
    p.add_argument("--adam", default="foreach", choices=("foreach", "fused", "loop"), help="PyTorch's Adam")
    p.add_argument("--target", action="append", default=[], metavar="ROW=VALUE",
                   help="override a row's target, e.g. --target k16=1.5 --target reg=3")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    args = p.parse_args()

    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown or not rows:
        p.error(f"unknown row(s) {','.join(unknown)}; choose from {','.join(ROWS)}")
    if args.pairs < 1 or args.steps < 1 or args.warmup < 0:
        p.error("need --pairs >= 1, --steps >= 1, --warmup >= 0")
    args.targets = {}
    for t in args.target:
        name, _, value = t.partition("=")
        if name not in ROWS:
            p.error(f"--target: unknown row {name!r}")
        args.targets[name] = float(value)
    if not (os.path.isfile(args.btviz) and os.access(args.btviz, os.X_OK)):
        sys.exit(f"btviz is not built at {args.btviz}: run `swift build -c release` in {REPO} "
                 "(or pass --btviz PATH)")

    version = ensure_torch() if any(not ROWS[r].get("btviz_only") for r in rows) else (torch_version() or "-")
    say(f"PyTorch {version} from {VENV}; btviz {args.btviz}")
    busy = cpu_busy()
    if busy is not None and busy > 25:
        say(f"warning: the CPU is {busy:.0f}% busy with other work: the figures will be noisy, and PyTorch's "
            f"OpenMP threads suffer more from sharing cores than btviz's workers do")
    cache = {}
    results = [measure_row(r, args, cache) for r in rows]
    summary(results, args, version)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=version, options={k: v for k, v in vars(args).items()}, rows=results), f, indent=1)


if __name__ == "__main__":
    main()
