#!/usr/bin/env python3
"""Writes the small dataset files the Datasets tests read, each in its dataset's official layout.

    python3 Tests/Fixtures/datasets/make_fixtures.py     # needs numpy, scipy and Pillow

The outputs are committed, so the tests need none of these. Pixel values follow formulas the tests compute
independently (written out below), so a reader that swaps an axis or a channel fails:

  SVHN     X[r, c, ch, i] = (7*i + 5*r + 3*c + 101*ch) % 256   (32x32x3xN uint8, MATLAB column-major)
           y[i] = i % 10 + 1                                     (1-10, 10 meaning the digit 0)
  npz      data[i, k] = (11*i + 13*k + 71*(k//4096) + 31*part) % 256   (N x 12288 uint8, planar: k = ch*4096 + r*64 + c)
           labels[i] = (i * 397 + part) % 1000 + 1              (1-1000)
  images   pixel (x, y) = ((17*x + 3*y) % 256, (5*x + 11*y) % 256, (x*y) % 256)
"""

from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image

HERE = Path(__file__).resolve().parent


def svhn(n):
    i, r, c, ch = np.meshgrid(np.arange(n), np.arange(32), np.arange(32), np.arange(3), indexing="ij")
    x = ((7 * i + 5 * r + 3 * c + 101 * ch) % 256).astype(np.uint8)  # [i, r, c, ch]
    x = np.transpose(x, (1, 2, 3, 0))                                   # [r, c, ch, i], as the official files
    y = (np.arange(n) % 10 + 1).astype(np.uint8).reshape(n, 1)
    return x, y


def npz_part(n, part):
    i, k = np.meshgrid(np.arange(n), np.arange(12288), indexing="ij")
    data = ((11 * i + 13 * k + 71 * (k // 4096) + 31 * part) % 256).astype(np.uint8)
    labels = [int((j * 397 + part) % 1000 + 1) for j in range(n)]  # a list, as the official pickles had
    return data, labels


def picture(w, h):
    x, y = np.meshgrid(np.arange(w), np.arange(h))
    return np.stack([(17 * x + 3 * y) % 256, (5 * x + 11 * y) % 256, (x * y) % 256], axis=-1).astype(np.uint8)


def main():
    d = HERE / "svhn"
    d.mkdir(exist_ok=True)
    x, y = svhn(12)
    scipy.io.savemat(d / "train_32x32.mat", {"X": x, "y": y}, format="5", do_compression=True)
    x, y = svhn(7)
    scipy.io.savemat(d / "test_32x32.mat", {"X": x, "y": y}, format="5", do_compression=False)

    b = HERE / "svhn-bad"
    b.mkdir(exist_ok=True)
    x, y = svhn(4)
    scipy.io.savemat(b / "no_y.mat", {"X": x}, format="5")
    scipy.io.savemat(b / "no_x.mat", {"y": y}, format="5")
    scipy.io.savemat(b / "wrong_shape.mat", {"X": np.zeros((28, 28, 3, 4), np.uint8), "y": y}, format="5")
    scipy.io.savemat(b / "x_double.mat", {"X": x.astype(np.float64), "y": y}, format="5", do_compression=True)
    scipy.io.savemat(b / "y_short.mat", {"X": x, "y": y[:3]}, format="5")
    scipy.io.savemat(b / "y_zero.mat", {"X": x, "y": np.array([[1], [0], [3], [4]], np.uint8)}, format="5")
    scipy.io.savemat(b / "y_double.mat", {"X": x, "y": y.astype(np.float64)}, format="5", do_compression=True)

    n = HERE / "imagenet64"
    n.mkdir(exist_ok=True)
    data, labels = npz_part(5, 1)  # stored, as numpy.savez writes
    np.savez(n / "train_data_batch_1.npz", data=data, labels=labels)
    data, labels = npz_part(4, 2)  # deflated, with the official files' third array
    np.savez_compressed(n / "train_data_batch_2.npz", data=data, labels=labels, mean=data.mean(axis=0))
    data, labels = npz_part(3, 9)
    np.savez_compressed(n / "val_data.npz", data=data, labels=labels)
    nb = HERE / "npz-bad"
    nb.mkdir(exist_ok=True)
    data, labels = npz_part(3, 1)
    np.savez(nb / "no_labels.npz", data=data)
    np.savez(nb / "no_data.npz", labels=labels)
    np.savez(nb / "wrong_width.npz", data=data[:, :3072], labels=labels)
    np.savez_compressed(nb / "int_data.npz", data=data.astype(np.int16), labels=labels)
    np.savez(nb / "label_zero.npz", data=data, labels=[0, 1, 2])
    np.savez(nb / "count_mismatch.npz", data=data, labels=labels[:2])

    im = HERE / "images"
    im.mkdir(exist_ok=True)
    p = picture(20, 12)
    Image.fromarray(p).save(im / "rgb.png")
    Image.fromarray(p).convert("L").save(im / "grey.png")
    Image.fromarray(np.dstack([p, np.full(p.shape[:2], 255, np.uint8)])).save(im / "rgba.png")
    Image.fromarray(p).quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(im / "palette.png")
    Image.fromarray(p[:, :, 0].astype(np.uint16) * 257).save(im / "grey16.png")
    Image.fromarray(p).save(im / "rgb.jpg", quality=95)
    Image.fromarray(p).convert("L").save(im / "grey.jpg", quality=95)
    # What Pillow decodes, beside the lossy and converted files: the reference for btviz's decoders.
    for name in ["palette.png", "rgb.jpg", "grey.jpg", "grey16.png", "grey.png"]:
        ref = np.asarray(Image.open(im / name).convert("RGB")) if not name.startswith("grey16") else \
            np.repeat((np.asarray(Image.open(im / name)).astype(np.uint32) >> 8).astype(np.uint8)[:, :, None], 3, axis=2)
        np.save(im / (name.replace(".", "_") + ".npy"), ref.astype(np.float32))
    whole = (im / "rgb.png").read_bytes()
    (im / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (im / "not_an_image.jpg").write_bytes(b"this is text, not a JPEG\n")
    jpg = (im / "rgb.jpg").read_bytes()
    (im / "truncated.jpg").write_bytes(jpg[:40])
    print("wrote", HERE)


if __name__ == "__main__":
    main()
