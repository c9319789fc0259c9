#!/usr/bin/env python3
"""Writes the PyTorch fixtures that btviz's differential test (Tests/TrainingTests/PyTorchDifferentialTests.swift)
compares against: the same VGG-6 on the same inputs, step by step.

For one initialization (PyTorch's defaults, torch.manual_seed(0)) and one fixed batch of real Fashion-MNIST images
(no augmentation), and for the methods full and bt:
  init/<param>.npy              initial weights, in btviz's layout
  batch/x.npy, batch/labels.npy the batch, NHWC, already normalized; labels as float32
  <method>/logits.npy, loss.npy training-mode forward (batch statistics) and mean cross-entropy
  <method>/grad/<param>.npy     every parameter's gradient (straight-through estimator for the conv weights)
  <method>/after/<param>.npy    weights after STEPS Adam steps on the same batch (constant lr), with the
                                BN running statistics as <bn>.running_mean / running_var
  bt/reg_grad/<conv>.npy        d(-LAMBDA * E[R]) / dW for R = sum |Q(W) - Q(W~)| (the paper's L1 norm), taken by
                                autograd from E[R] = sum_i sum_t h_t Phi(-|w_i - t| / s'), not from btviz's formula

Layouts: btviz is NHWC, so conv weights are [out, 3, 3, in] and fc1's inputs are flattened (h, w, c).

  Samples/pytorch/.venv/bin/python Samples/pytorch/fixtures.py --data ../shared/data/fashion-subset \
      --out Tests/Fixtures/pytorch-vgg6
"""

import argparse
import gzip
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

from vgg6 import VGG6, fit

K, BATCH, STEPS, LR, LAMBDA, NOISE_RATIO = 8, 32, 3, 1e-3, 1.0, 0.1


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_batch(data_dir):
    """The first BATCH training images, normalized with the whole training set's mean and std (btviz's
    Normalizer: population std over every pixel)."""
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz")).astype(np.float64)
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    mean, std = images.mean(), images.std()
    x = ((images[:BATCH] - mean) / std).astype(np.float32)
    return torch.from_numpy(x).reshape(BATCH, 1, 28, 28), torch.from_numpy(labels[:BATCH].astype(np.int64))


def btviz_tensors(model, grads=False):
    """Every parameter (or its gradient) under btviz's name and layout, plus BN running statistics."""
    out = {}
    for i, conv in enumerate(model.convs):
        t = conv.weight.grad if grads else conv.weight
        out[f"conv{i + 1}"] = t.detach().permute(0, 2, 3, 1)
    bns = [m for m in model.features if isinstance(m, torch.nn.BatchNorm2d)] + [model.bn7]
    for i, bn in enumerate(bns):
        name = f"bn{i + 1}"
        out[name + ".gamma"] = (bn.weight.grad if grads else bn.weight).detach()
        out[name + ".beta"] = (bn.bias.grad if grads else bn.bias).detach()
        if not grads:
            out[name + ".running_mean"] = bn.running_mean.detach()
            out[name + ".running_var"] = bn.running_var.detach()
    w1 = model.fc1.weight.grad if grads else model.fc1.weight
    c = model.convs[-1].out_channels
    side = int(round((w1.shape[1] // c) ** 0.5))
    out["fc1.weight"] = w1.detach().reshape(w1.shape[0], c, side, side).permute(0, 2, 3, 1).reshape(w1.shape[0], -1)
    out["fc2.weight"] = (model.fc2.weight.grad if grads else model.fc2.weight).detach()
    out["fc2.bias"] = (model.fc2.bias.grad if grads else model.fc2.bias).detach()
    return out


def save(folder, tensors):
    os.makedirs(folder, exist_ok=True)
    for name, t in tensors.items():
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(t.numpy(), dtype=np.float32))


def expected_reg_gradient(w, method):
    """d(-LAMBDA * E[R]) / dW by autograd. For a monotone Q, |Q(w) - Q(w + n)| = sum over transitions t between
    w and w + n of the jump h_t, so E|Q(w) - Q(w~)| = sum_t h_t Phi(-|w - t| / s') exactly. The fit (scales,
    transitions, jumps) is a constant, as in btviz."""
    f = fit(method, w.detach())
    hs = f.step_heights()
    keep = hs > 0
    ts, hs = f.transitions[keep], hs[keep]
    sp = NOISE_RATIO * f.first_scale
    wv = w.detach().clone().requires_grad_(True)
    d = (wv.reshape(-1, 1) - ts.reshape(1, -1)).abs()
    expected_r = (hs * torch.special.ndtr(-d / sp)).sum()
    (-LAMBDA * expected_r).backward()
    return wv.grad


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with Fashion-MNIST's IDX .gz files")
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    x, y = load_batch(args.data)
    save(os.path.join(args.out, "batch"), {"x": x.permute(0, 2, 3, 1), "labels": y.to(torch.float32)})

    torch.manual_seed(0)
    initial = VGG6(K, (1, 28, 28), 10, "full", init="pytorch").state_dict()
    save(os.path.join(args.out, "init"), btviz_tensors(_model(initial, "full")))

    for method in ("full", "bt"):
        model = _model(initial, method)
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
        for step in range(STEPS):
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            if step == 0:
                folder = os.path.join(args.out, method)
                save(folder, {"logits": logits.detach(), "loss": loss.detach().reshape(1)})
                save(os.path.join(folder, "grad"), btviz_tensors(model, grads=True))
                if method != "full":
                    save(os.path.join(folder, "reg_grad"),
                         {f"conv{i + 1}": expected_reg_gradient(c.weight, method).permute(0, 2, 3, 1)
                          for i, c in enumerate(model.convs)})
            opt.step()
        save(os.path.join(args.out, method, "after"), btviz_tensors(model))
    print(f"wrote {args.out}: VGG-6({K}), batch {BATCH}, {STEPS} Adam steps at lr {LR}, torch {torch.__version__}")


def _model(state, method):
    m = VGG6(K, (1, 28, 28), 10, method, init="pytorch")
    m.load_state_dict(state)
    return m


if __name__ == "__main__":
    main()
