"""LMUFormer benchmark: accuracy, size, operations, training and streaming speed.

One run measures, for the causal LMUFormer and the causal spiking LMUFormer
trained on synthesised spoken keywords (`nengo_lmu.apps.speech.spoken_keywords`,
test clips from unseen voices):

- held-out accuracy, trainable parameters, operations per clip (MACs; for
  the spiking model the accumulates counted from its measured spikes,
  `nengo_lmu.dl.lmuformer.operation_counts`);
- training time per epoch with the memory computed in parallel (chunked
  scan) against the *same model* with the memory stepped frame by frame
  (``memory_mode="recurrent"``, a scan over frames; convolutions, dense
  layers and LIF scans are the same in both), and the ratio;
- per-frame streaming latency of `nengo_lmu.dl.streaming_network` (one frame
  per simulator step, one clip) in ``nengo.Simulator`` and in NengoDL,
  against the parallel Keras model's time per frame when it scores a whole
  clip at once (what streaming gives up for its one-frame latency).

Timings are medians of repeated runs after a warm-up; absolute numbers depend
on the machine and its load, ratios within one run are what to compare.

Run from the repository root::

    python benchmarks/lmuformer.py --quick      # smoke run (~1 min)
    python benchmarks/lmuformer.py --json out.json
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from nengo_lmu.apps.speech import spoken_keywords  # noqa: E402
from nengo_lmu.dl.lmuformer import (  # noqa: E402
    final_scores_model,
    lmuformer,
    operation_counts,
)
from nengo_lmu.dl.streaming import streaming_network  # noqa: E402
from nengo_lmu.tables import format_table  # noqa: E402


def standardise(data):
    mean = data["x_train"].mean(axis=(0, 1))
    std = data["x_train"].std(axis=(0, 1)) + 1e-6
    return [((data[k] - mean) / std).astype(np.float32) for k in ("x_train", "x_test")]


def epoch_seconds(model, x, y, batch_size, repeats):
    train = final_scores_model(model)
    train.compile(
        tf.keras.optimizers.Adam(3e-3),
        tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    train.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, verbose=0)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        train.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), train


def seconds_per_step(sim, frames, repeats):
    """Median seconds per step of ``frames`` steps after a warm-up run."""
    sim.run_steps(frames)  # warm-up (and NengoDL's graph building)
    times = []
    for _ in range(repeats):
        sim.reset()
        t0 = time.perf_counter()
        sim.run_steps(frames)
        times.append((time.perf_counter() - t0) / frames)
    return float(np.median(times))


def streaming_latency(model, clip, repeats):
    """Seconds per frame in nengo.Simulator and NengoDL (one clip)."""
    frames, n_in = clip.shape
    out = {}
    net = streaming_network(model)
    with nengo.Network() as outer:
        outer.networks.append(net)
        inp = nengo.Node(nengo.processes.PresentInput(clip, 0.001))
        nengo.Connection(inp, net.input, synapse=None)
        nengo.Probe(net.output, synapse=None)
    with nengo.Simulator(outer, progress_bar=False) as sim:
        out["nengo"] = seconds_per_step(sim, frames, repeats)
    with outer:
        nengo_dl.configure_settings(stateful=True)
    with nengo_dl.Simulator(outer, minibatch_size=1, progress_bar=False) as sim:
        out["nengo_dl"] = seconds_per_step(sim, frames, repeats)
    x = tf.constant(clip[None].astype(model.lmuformer_config["dtype"]))
    forward = tf.function(lambda v: model(v, training=False))
    forward(x)  # trace
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        forward(x).numpy()
        times.append((time.perf_counter() - t0) / frames)
    out["keras_whole_clip"] = float(np.median(times))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--n-mels", type=int, default=20)
    parser.add_argument("--n-train", type=int, default=40)
    parser.add_argument("--n-test", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args(argv)
    keywords = None
    if args.quick:
        keywords = ["yes", "no", "up", "down", "left", "right"]
        args.epochs, args.n_train, args.n_test, args.repeats = 2, 10, 4, 2
        args.dim = 16
    data = spoken_keywords(keywords, n_train=args.n_train, n_test=args.n_test, n_mels=args.n_mels)
    x_tr, x_te = standardise(data)
    y_tr, y_te = data["y_train"], data["y_test"]
    n_classes, frames = len(data["keywords"]), x_tr.shape[1]
    rows, results = [], {}
    for spiking in (False, True):
        name = "spiking LMUFormer" if spiking else "LMUFormer"
        kw = dict(dim=args.dim, theta=frames, spiking=spiking, n_frames=frames, seed=args.seed)
        model = lmuformer(args.n_mels, n_classes, memory_mode="chunked", **kw)
        train = final_scores_model(model)
        train.compile(
            tf.keras.optimizers.Adam(3e-3),
            tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        t0 = time.perf_counter()
        train.fit(x_tr, y_tr, batch_size=64, epochs=args.epochs, verbose=0)
        train_s = time.perf_counter() - t0
        acc = float(np.mean(np.argmax(train.predict(x_te, verbose=0), -1) == y_te))
        ops = operation_counts(model, x_te)
        par, _ = epoch_seconds(
            lmuformer(args.n_mels, n_classes, memory_mode="chunked", **kw),
            x_tr,
            y_tr,
            64,
            args.repeats,
        )
        step, _ = epoch_seconds(
            lmuformer(args.n_mels, n_classes, memory_mode="recurrent", **kw),
            x_tr,
            y_tr,
            64,
            args.repeats,
        )
        lat = streaming_latency(model, x_te[0], args.repeats)
        results[name] = dict(
            test_accuracy=acc,
            params=ops["params"],
            macs=ops["macs"],
            acs=ops["acs"],
            spike_rate=ops["spike_rate"],
            train_seconds=train_s,
            epochs=args.epochs,
            epoch_parallel_s=par,
            epoch_stepped_memory_s=step,
            latency_s_per_frame=lat,
        )
        rows.append(
            [
                name,
                acc,
                ops["params"],
                ops["macs"],
                ops["acs"],
                train_s,
                par,
                step,
                step / par,
                1e3 * lat["nengo"],
                1e3 * lat["nengo_dl"],
                1e3 * lat["keras_whole_clip"],
                lat["nengo_dl"] / lat["keras_whole_clip"],
            ]
        )
    headers = [
        "model",
        "test acc",
        "params",
        "MACs/clip",
        "ACs/clip",
        "train s",
        "s/epoch parallel",
        "s/epoch stepped",
        "stepped/parallel",
        "nengo ms/frame",
        "nengo_dl ms/frame",
        "keras ms/frame (clip)",
        "nengo_dl/keras",
    ]
    print(format_table(headers, rows))
    print(
        f"\n{len(x_tr)} training clips, {len(x_te)} test clips (unseen voices), "
        f"{frames} frames, {args.n_mels} mel bins, dim {args.dim}, "
        f"{args.epochs} epochs, seed {args.seed}."
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(dict(args=vars(args), results=results), f, indent=1)


if __name__ == "__main__":
    main()
