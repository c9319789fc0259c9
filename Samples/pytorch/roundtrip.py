#!/usr/bin/env python3
"""PyTorch -> btviz -> ONNX round trip (docs/export.md): not part of the test suite (CI has no torch).

  python roundtrip.py train --data DIR --out vgg6.safetensors [--k 16 --epochs 2]
      trains vgg6.py's VGG6 (full precision) on an IDX dataset (Fashion-MNIST files) and saves its state_dict with
      safetensors; prints its test accuracy (eval mode), with the input normalized as btviz normalizes it (the
      training split's pixel mean and standard deviation).
  python roundtrip.py onnx-accuracy --data DIR --model model.onnx
      the test accuracy of a btviz ONNX export through onnxruntime (the graph normalizes its 0..1 input itself).
"""

import argparse
import gzip
import os
import sys
from pathlib import Path

import numpy as np


def read_idx(folder, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            data = (gzip.open if p.endswith(".gz") else open)(p, "rb").read()
            dims = data[3]
            shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    sys.exit(f"no {stem} in {folder}")


def load(folder):
    train = read_idx(folder, "train-images-idx3-ubyte").astype(np.float32) / 255
    test = read_idx(folder, "t10k-images-idx3-ubyte").astype(np.float32) / 255
    return (train[:, None], read_idx(folder, "train-labels-idx1-ubyte").astype(np.int64),
            test[:, None], read_idx(folder, "t10k-labels-idx1-ubyte").astype(np.int64))


def train(args):
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import vgg6

    torch.manual_seed(0)
    xtr, ytr, xte, yte = load(args.data)
    mean, std = float(xtr.astype(np.float64).mean()), float(xtr.astype(np.float64).std())
    norm = lambda x: torch.from_numpy((x - np.float32(mean)) * np.float32(1 / std))
    model = vgg6.VGG6(args.k, (1, 28, 28), 10, method="full")
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = args.epochs * ((len(xtr) + 127) // 128)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for epoch in range(args.epochs):
        model.train()
        order = np.random.default_rng(epoch).permutation(len(xtr))
        for s in range(0, len(xtr), 128):
            idx = order[s:s + 128]
            opt.zero_grad()
            F.cross_entropy(model(norm(xtr[idx])), torch.from_numpy(ytr[idx])).backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(norm(xte[s:s + 512])).argmax(1).numpy() == yte[s:s + 512]).sum())
                      for s in range(0, len(xte), 512))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, args.out)
    print(f"PyTorch VGG-6({args.k}), {args.epochs} epochs on {len(xtr)} images: test accuracy "
          f"{100 * correct / len(xte):.2f}% ({correct}/{len(xte)}); state_dict in {args.out}")


def onnx_accuracy(args):
    import onnxruntime as ort
    _, _, xte, yte = load(args.data)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    correct = sum(int((session.run(["logits"], {"input": xte[s:s + 512]})[0].argmax(1) == yte[s:s + 512]).sum())
                  for s in range(0, len(xte), 512))
    print(f"{args.model} through onnxruntime: test accuracy {100 * correct / len(xte):.2f}% ({correct}/{len(xte)})")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--k", type=int, default=16)
    t.add_argument("--epochs", type=int, default=2)
    o = sub.add_parser("onnx-accuracy")
    o.add_argument("--data", required=True)
    o.add_argument("--model", required=True)
    a = p.parse_args()
    (train if a.cmd == "train" else onnx_accuracy)(a)
