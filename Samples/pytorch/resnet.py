#!/usr/bin/env python3
"""The CIFAR ResNets (He et al. 2016, section 4.2) with btviz's weight quantizers, in PyTorch: the reference btviz's
ResNet (Sources/Models/ResNet.swift) is checked against.

  ResNet-(6n+2): conv3x3(16) + BN + ReLU, three stages of n basic blocks at 16, 32 and 64 channels (the second and
  third halve the map in their first block: a stride-2 conv and option A's shortcut, x[:, :, ::2, ::2] zero-padded
  with planes/4 channels on each side), global average pool, Linear(64, classes). Module names are
  akamaster/pytorch_resnet_cifar10's (conv1, bn1, layer1.0.conv1, ..., linear). Every 3x3 conv but the first goes
  through the quantizer (straight-through, as vgg6.py's QConv2d); the first conv and the linear layer stay float32.

  python resnet.py --fixtures ../../Tests/Fixtures/pytorch-resnet --data ../../../shared/data/cifar10-subset

writes what Tests/TrainingTests/ResNetPyTorchTests.swift compares btviz against: ResNet-8 with PyTorch's default
initialization (torch.manual_seed(0)), the first BATCH CIFAR-10 training images normalized per channel over the
training file, and for full and BT: training-mode logits, mean cross-entropy, every gradient, and the batch norms'
running statistics after that forward pass, all in btviz's names and layouts (NHWC: conv weights [out, 3, 3, in]).
"""

import argparse
import os
import shutil

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vgg6 import fit

DEPTH, BATCH = 8, 16


class QConv(nn.Conv2d):
    """3x3 conv, padding 1, no bias, stride 1 or 2, its weight quantized in the forward pass (straight-through)."""

    def __init__(self, cin, cout, stride, method):
        super().__init__(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.method = method

    def forward(self, x):
        if self.method == "full":
            return self._conv_forward(x, self.weight, None)
        w = self.weight
        with torch.no_grad():
            q = fit(self.method, w).quantize(w)
        return self._conv_forward(x, w + (q - w).detach(), None)


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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fixtures", required=True, help="folder to write the differential test's fixtures to")
    p.add_argument("--data", required=True, help="folder with CIFAR-10's binary files (data_batch_1.bin)")
    fixtures(p.parse_args())


if __name__ == "__main__":
    main()
