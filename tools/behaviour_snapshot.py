"""Seeded results that a refactor must leave unchanged, written as JSON.

Run before and after a change and compare the two files (they must be
identical)::

    python tools/behaviour_snapshot.py before.json
    python tools/behaviour_snapshot.py after.json
    diff before.json after.json

Each entry is a scalar result and the SHA-256 of the array it came from, so
that a change in any bit of any output shows. The cases are small (about a
minute in all on two cores): the delay task with the exact and the LIF
memory, a short parallel digits training, the L2MU's spikes (DiscreteLIF in
nengo and its nengo.LIF map), and the nengo-loihi emulator's outputs of
`LoihiLegendreMemory` and `HostMemoryClassifier`.
"""

import functools
import hashlib
import json
import os
import sys
import warnings

# Multithreaded BLAS sums in a different order from one process to the next,
# and spike timing amplifies the last bits (README: run-to-run spread across
# processes); one thread makes the runs repeat bit for bit.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import nengo  # noqa: E402
import numpy as np  # noqa: E402


def digest(a):
    """SHA-256 of an array rounded to 9 decimals.

    nengo orders the operators that sum into one signal by object ids, so
    the same network sums in another order in another process and its
    outputs move in the last bits (1e-16); rounding keeps those out, and any
    real change in.
    """
    a = np.round(np.asarray(a, dtype=np.float64), 9) + 0.0  # no -0.0
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def score(x):
    return round(float(x), 12)


def delay(out):
    from nengo_lmu.apps.tasks import run_delay_task
    from nengo_lmu.networks import LegendreMemory

    # The memory gets a seed of its own: unseeded, a neural memory draws its
    # evaluation points from fresh entropy (its seed is None when it is
    # made), so their order, and the decoders' last bits, change per run.
    common = dict(
        theta=0.1,
        order=6,
        duration=2.0,
        discard=1.0,
        seed=3,
        memory=functools.partial(LegendreMemory, seed=5),
    )
    for name, kw in (("exact", {}), ("lif", dict(n_neurons=50))):
        r = run_delay_task(**common, **kw)
        out[f"delay.{name}"] = dict(
            nrmse=score(r.nrmse), best_lag=r.best_lag_steps, output=digest(r.output)
        )


def digits(out):
    from nengo_lmu.apps.data import permuted_digits
    from nengo_lmu.dl import nengo_dl_logits, to_classifier, train_parallel_classifier

    data = permuted_digits()
    res = train_parallel_classifier(
        data,
        10,
        [dict(units=20, order=8, theta=32.0, hidden_activation="relu", hidden_to_hidden=False)],
        epochs=1,
        seed=1,
        verbose=0,
    )
    out["digits.parallel"] = dict(accuracy=res.test_accuracy, logits=digest(res.test_logits))
    clf = to_classifier(res.model, seed=1)
    x = data["x_test"][:20]
    logits = nengo_dl_logits(clf, x, minibatch_size=20)
    out["digits.converted"] = dict(logits=digest(np.round(logits, 5)))
    nengo_logits = clf.predict(x[:3])
    out["digits.nengo"] = dict(logits=digest(np.round(nengo_logits, 5)))
    return clf, data


def nengo_dl_training(out):
    """One short NengoDL training of each kind (the rate classifier and the
    spiking L2MU), from their seeds."""
    import nengo

    from nengo_lmu.apps.data import event_digits, permuted_digits
    from nengo_lmu.dl import train_classifier, train_spiking_classifier
    from nengo_lmu.networks import L2MU, LMUClassifier

    data = permuted_digits()
    small = {k: v[:100] for k, v in data.items()}
    clf = LMUClassifier(
        10,
        [dict(units=8, order=4, theta=16.0, hidden_neuron_type=nengo.RectifiedLinear())],
        seed=2,
    )
    res = train_classifier(clf, small, epochs=1, minibatch_size=20, seed=2)
    out["nengo_dl.classifier"] = dict(
        accuracy=res.test_accuracy,
        logits=digest(np.round(res.test_logits, 5)),
        loss=[round(v, 5) for v in res.history["loss"]],
    )
    events = event_digits(n_steps=12, n_samples=100, threshold=0.2)
    net = L2MU(16, 10, memory_size=4, order=3, theta=6.0, hidden_size=16, seed=0)
    res = train_spiking_classifier(
        net, events, epochs=1, minibatch_size=20, learning_rate=5e-3, unroll_simulation=1
    )
    out["nengo_dl.l2mu"] = dict(
        accuracy=res.test_accuracy,
        counts=digest(res.test_counts),
        params=digest(
            np.concatenate([np.ravel(v) for p in res.neuron_params.values() for v in p])
        ),
    )


def l2mu(out):
    from nengo_lmu.loihi import lif_run
    from nengo_lmu.networks import L2MU

    x = (np.random.RandomState(6).rand(3, 30, 6) < 0.3).astype(np.float32)
    args = dict(
        memory_size=3,
        order=4,
        theta=6.0,
        hidden_size=12,
        threshold_u=0.1,
        threshold_m=0.1,
        threshold_h=0.2,
        threshold_out=0.1,
        seed=2,
    )
    net = L2MU(6, 4, **args)
    probes = net.add_probes()
    counts, rec = net.run_sequences(x, probes=probes)
    out["l2mu.spikes"] = dict(
        counts=counts.tolist(), **{k: digest(v) for k, v in sorted(rec.items())}
    )
    chip = L2MU(6, 4, reset="zero", min_voltage=-0.5, chip_timing=True, **args)
    c_lif, act = lif_run(chip, x, "nengo", pad_steps=0)
    out["l2mu.lif_map"] = dict(
        counts=c_lif.tolist(), **{k: digest(v) for k, v in sorted(act.items())}
    )
    c_emu, _ = lif_run(chip, x, "loihi")
    out["l2mu.loihi_emulator"] = dict(counts=c_emu.tolist())


def loihi_cases(out, clf, data):
    from nengo_lmu import loihi
    from nengo_lmu.apps.experiments.loihi import delay_comparison
    from nengo_lmu.apps.tasks import run_delay_task

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results, resources, report = delay_comparison(
            targets=("sim",), n_neurons=30, duration=1.5, seed=0, discard=0.5
        )
    # the emulator's 8-bit weights hide the unseeded memory's last bits (see
    # `delay`); nengo's run does not, so it is run again with a seeded memory
    out["loihi.memory.sim"] = dict(
        nrmse=score(results["sim"].nrmse), output=digest(results["sim"].output)
    )
    for target in ("nengo", "sim"):
        r = run_delay_task(
            n_neurons=30,
            duration=1.5,
            seed=0,
            discard=0.5,
            memory=functools.partial(loihi.LoihiLegendreMemory, seed=5),
            simulator=None if target == "nengo" else loihi.simulator_factory(target),
        )
        out[f"loihi.memory.seeded.{target}"] = dict(nrmse=score(r.nrmse), output=digest(r.output))
    out["loihi.memory.resources"] = resources["sim"]
    out["loihi.memory.report"] = report.table()

    x = data["x_test"][:3]
    net = loihi.HostMemoryClassifier(clf, scale_x=data["x_train"][:50], hold_steps=20, window=10)
    out["loihi.classifier.rate"] = dict(logits=digest(np.round(net.rate_logits(x), 6)))
    for target in ("nengo", "sim"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            logits, info = net.predict(x, target=target)
        entry = dict(logits=digest(logits), clipped=info["clipped"], report=info["report"].table())
        if "resources" in info:
            entry["resources"] = info["resources"]
        out[f"loihi.classifier.{target}"] = entry


def structure(out):
    """Every connection's transform and synapse and every ensemble's
    parameters of the neural memories (a refactor of the build shows here
    first)."""
    from nengo_lmu import loihi
    from nengo_lmu.networks import LegendreMemory

    for name, cls in (
        ("LegendreMemory", LegendreMemory),
        ("LoihiLegendreMemory", loihi.LoihiLegendreMemory),
    ):
        with nengo.Network(seed=1):
            mem = cls(6, 0.1, n_neurons=20, seed=5)
        conns = sorted(
            (
                str(c),
                str(c.synapse),
                digest(getattr(c.transform, "init", np.nan)),
                type(c.solver).__name__,
                bool(getattr(c.solver, "weights", False)),
            )
            for c in mem.all_connections
        )
        enss = sorted(
            (
                e.label,
                e.n_neurons,
                e.dimensions,
                str(e.neuron_type),
                float(e.radius),
                str(e.max_rates),
                str(e.intercepts),
                digest(e.eval_points)
                if isinstance(e.eval_points, np.ndarray)
                else str(e.eval_points),
            )
            for e in mem.all_ensembles
        )
        out[f"structure.{name}"] = dict(connections=conns, ensembles=enss, T=digest(mem.T))


def main(path):
    out = {}
    structure(out)
    delay(out)
    clf, data = digits(out)
    nengo_dl_training(out)
    l2mu(out)
    loihi_cases(out, clf, data)
    with open(path, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True, default=float)
    print(f"wrote {path} ({len(out)} entries)")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    main(sys.argv[1] if len(sys.argv) > 1 else "behaviour_snapshot.json")
