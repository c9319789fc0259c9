#!/usr/bin/env python3
"""Reads btviz's exports back with the other tools' own readers, for Tests/CLITests/ExportCommandTests.swift.

Each subcommand prints one JSON object (the Swift test asserts on it) or exits non-zero with the reason.
Runs in the virtual environment scripts/pyenv makes (onnxruntime, numpy, safetensors, tensorboard from PyPI).

  onnx-logits MODEL REFDIR         onnxruntime's logits on REFDIR/input.npy against btviz's REFDIR/logits.npy
  sr-psnr MODEL REFDIR SET SHAVE   the mean PSNR of onnxruntime's output over a benchmark set (btviz's convention)
  quantized NPZDIR FILE            FILE's btviz.*.q tensors against `btviz quantize` outputs in NPZDIR (by name)
  latent FILE OUTDIR               FILE's quantized layers' latent weights, in btviz's layout, as OUTDIR/<name>.npy
  state-dict FILE OUT              FILE's state_dict tensors only, re-written by safetensors.numpy.save_file
  numpy-accuracy FILE DATADIR      a numpy VGG-6 forward pass of FILE's weights on the IDX test split
  same-weights A B                 whether A's and B's parameters (not batch-norm statistics) are bit-identical
  tensorboard DIR                  TensorBoard's event_accumulator over DIR: tags, steps and values
  wall-times DIR TAG               every event of TAG in DIR with its step and wall time (event_accumulator)
  hparams LOGDIR                   TensorBoard's runs under LOGDIR and its HParams plugin's experiment and
                                   session groups, as the dashboard asks for them (the plugin's own handlers)
"""

import gzip
import json
import os
import sys

import numpy as np


def out(obj):
    print(json.dumps(obj))


def onnx_logits(model, ref):
    import onnxruntime as ort
    x = np.load(os.path.join(ref, "input.npy"))
    want = np.load(os.path.join(ref, "logits.npy"))
    labels = np.load(os.path.join(ref, "labels.npy")).astype(np.int64)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"input": x})[0]
    out({"images": int(x.shape[0]), "max_abs_diff": float(np.abs(got - want).max()),
         "max_abs_logit": float(np.abs(want).max()),
         "correct_onnx": int((got.argmax(1) == labels).sum()), "correct_btviz": int((want.argmax(1) == labels).sum()),
         "same_predictions": bool((got.argmax(1) == want.argmax(1)).all())})


def sr_psnr(model, ref, set_name, shave):
    """btviz's PSNR (Sources/Restoration/PSNR.swift, RestorationTraining.measure): the prediction clipped to [0, 1],
    times 255, rounded; against the 0-255 target, `shave` pixels cut from every border; the mean over the set."""
    import onnxruntime as ort
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    values = []
    i = 0
    while os.path.exists(os.path.join(ref, f"{set_name}-{i}-input.npy")):
        base = os.path.join(ref, f"{set_name}-{i}")
        feed = {"input": np.load(base + "-input.npy")}
        if "bicubic" in names:
            feed["bicubic"] = np.load(base + "-bicubic.npy")
        y = session.run(["output"], feed)[0].astype(np.float64)
        target = np.load(base + "-target.npy").astype(np.float64)
        pred = np.round(np.clip(y, 0, 1) * 255)
        s = shave
        d = (pred - target)[..., s:target.shape[2] - s, s:target.shape[3] - s]
        values.append(10 * np.log10(255.0 ** 2 / np.mean(d * d)))
        i += 1
    if not values:
        sys.exit(f"no {set_name} images in {ref}")
    out({"images": len(values), "psnr": float(np.mean(values))})


def to_btviz(w):
    """PyTorch's conv layout [out, in, 3, 3] to btviz's [out, 3, 3, in]."""
    return np.ascontiguousarray(w.transpose(0, 2, 3, 1))


def quantized_names(tensors):
    return sorted(k[len("btviz."):-len(".q")] for k in tensors if k.startswith("btviz.") and k.endswith(".q"))


def latent(path, folder):
    from safetensors.numpy import load_file
    t = load_file(path)
    os.makedirs(folder, exist_ok=True)
    names = quantized_names(t)
    for n in names:
        np.save(os.path.join(folder, n + ".npy"), to_btviz(t[n]))
    out({"layers": names})


def quantized(folder, path):
    from safetensors.numpy import load_file
    t = load_file(path)
    rows = []
    for n in quantized_names(t):
        q_btviz = np.load(os.path.join(folder, n + ".q.npy"))  # `btviz quantize` output, btviz's layout
        q_file = to_btviz(t["btviz." + n + ".q"])
        codes = to_btviz(t["btviz." + n + ".codes"].astype(np.float32))
        scale = t.get("btviz." + n + ".scale")
        rows.append({"name": n, "equal": bool(np.array_equal(q_btviz, q_file)),
                     "codes_times_scale_equal": bool(scale is not None and np.array_equal(codes * scale, q_file)),
                     "codes": sorted(set(int(c) for c in np.unique(codes)))})
    out({"layers": rows})


def state_dict(path, dest):
    from safetensors.numpy import load_file, save_file
    t = load_file(path)
    kept = {k: v for k, v in t.items() if not k.startswith("btviz.")}
    save_file(kept, dest)
    out({"tensors": len(kept)})


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def idx(folder, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return read_idx(p)
    sys.exit(f"no {stem} in {folder}")


def numpy_accuracy(path, data_dir):
    """VGG-6 (Samples/pytorch/vgg6.py) in numpy, eval mode, full precision; input normalized by the training split's
    mean and standard deviation (btviz's Normalizer: population statistics over every training pixel)."""
    from safetensors.numpy import load_file
    t = load_file(path)
    train = idx(data_dir, "train-images-idx3-ubyte").astype(np.float64) / 255
    mean, std = train.mean(), train.std()
    x = ((idx(data_dir, "t10k-images-idx3-ubyte").astype(np.float32) / 255 - np.float32(mean)) * np.float32(1 / std))
    x = x[:, None, :, :].astype(np.float32)
    labels = idx(data_dir, "t10k-labels-idx1-ubyte").astype(np.int64)

    def conv(a, w):
        n, c, h, wd = a.shape
        p = np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = np.stack([p[:, :, dy:dy + h, dx:dx + wd] for dy in range(3) for dx in range(3)], axis=2)  # n c 9 h w
        return np.einsum("nckhw,ock->nohw", cols, w.reshape(w.shape[0], c, 9), optimize=True)

    def bn(a, prefix):
        shape = (1, -1, 1, 1) if a.ndim == 4 else (1, -1)
        g, b = t[prefix + ".weight"].reshape(shape), t[prefix + ".bias"].reshape(shape)
        m, v = t[prefix + ".running_mean"].reshape(shape), t[prefix + ".running_var"].reshape(shape)
        return (a - m) / np.sqrt(v + 1e-5) * g + b

    correct = 0
    for s in range(0, len(x), 256):
        a = x[s:s + 256]
        for stage in range(3):
            for j in (0, 3):
                i = 7 * stage + j
                a = np.maximum(bn(conv(a, t[f"features.{i}.weight"]), f"features.{i + 1}"), 0)
            n, c, h, w = a.shape
            a = a[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        a = a.reshape(a.shape[0], -1)
        a = np.maximum(bn(a @ t["fc1.weight"].T, "bn7"), 0)
        logits = a @ t["fc2.weight"].T + t["fc2.bias"]
        correct += int((logits.argmax(1) == labels[s:s + 256]).sum())
    out({"images": int(len(x)), "correct": correct, "accuracy": correct / len(x)})


def same_weights(a_path, b_path):
    from safetensors.numpy import load_file
    a, b = load_file(a_path), load_file(b_path)
    params = [k for k in a if not k.startswith("btviz.") and not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    differ = [k for k in params if k not in b or not np.array_equal(a[k], b[k])]
    out({"compared": len(params), "differ": differ})


def tensorboard(folder):
    from tensorboard.backend.event_processing import event_accumulator as ea
    acc = ea.EventAccumulator(folder, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0})
    acc.Reload()
    tags = acc.Tags()
    scalars = {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in tags["scalars"]}
    histograms = {tag: [{"step": e.step, "num": e.histogram_value.num, "min": e.histogram_value.min,
                         "max": e.histogram_value.max, "bucket": list(e.histogram_value.bucket),
                         "bucket_limit": list(e.histogram_value.bucket_limit)} for e in acc.Histograms(tag)]
                  for tag in tags["histograms"]}
    texts = {tag: [[e.step, [s.decode() for s in e.tensor_proto.string_val]] for e in acc.Tensors(tag)]
             for tag in tags["tensors"]}
    out({"scalars": scalars, "histograms": histograms, "texts": texts})


def wall_times(folder, tag):
    from tensorboard.backend.event_processing import event_accumulator as ea
    acc = ea.EventAccumulator(folder, size_guidance={ea.SCALARS: 0, ea.TENSORS: 0})
    acc.Reload()
    events = acc.Scalars(tag) if tag in acc.Tags()["scalars"] else acc.Tensors(tag)
    out({"events": [[e.step, e.wall_time] for e in events], "first": acc.FirstEventTimestamp()})


def hparams(logdir):
    """What the HParams dashboard shows: the plugin's GetExperiment and ListSessionGroups handlers over a data
    provider of LOGDIR, as `tensorboard --logdir LOGDIR` serves /data/plugin/hparams/experiment and /session_groups."""
    from google.protobuf import json_format
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
    backend = backend_context.Context(base_plugin.TBContext(logdir=logdir, data_provider=provider, multiplexer=multiplexer))
    ctx = context.RequestContext()
    experiment = get_experiment.Handler(ctx, backend, "", api_pb2.GetExperimentRequest()).run()
    request = api_pb2.ListSessionGroupsRequest(
        allowed_statuses=[api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_SUCCESS, api_pb2.STATUS_FAILURE, api_pb2.STATUS_RUNNING],
        start_index=0, slice_size=1000)
    groups = list_session_groups.Handler(ctx, backend, "", request).run()
    out({"runs": sorted(multiplexer.Runs().keys()),
         "experiment": json_format.MessageToDict(experiment),
         "session_groups": json_format.MessageToDict(groups)})


def npz_equals_safetensors(npz, path):
    """numpy.load's arrays of the .npz against safetensors' own reader of the safetensors file: names, dtypes, shapes, bits."""
    from safetensors.numpy import load_file
    want = load_file(path)
    with np.load(npz) as got:
        names = sorted(got.files)
        equal = names == sorted(want) and all(
            got[n].dtype == want[n].dtype and got[n].shape == want[n].shape and got[n].tobytes() == want[n].tobytes()
            for n in names)
    out({"equal": bool(equal), "arrays": len(names), "extras": sum(n.startswith("btviz.") for n in names)})


COMMANDS = {"onnx-logits": onnx_logits, "npz-equals-safetensors": npz_equals_safetensors, "sr-psnr": lambda m, r, s, sh: sr_psnr(m, r, s, int(sh)),
            "quantized": quantized, "latent": latent, "state-dict": state_dict, "numpy-accuracy": numpy_accuracy,
            "same-weights": same_weights, "tensorboard": tensorboard, "wall-times": wall_times, "hparams": hparams}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
