"""Multi-worker training of the language models (TensorFlow).

Every worker computes the same global batch (`nengo_lmu.text.batch_indices`
is a pure function of seed and step) and feeds its slice; the loss is
divided by the *global* number of tokens, so the all-reduced gradient is the
single-worker gradient. `train_multiworker` starts local worker processes
under `tf.distribute.MultiWorkerMirroredStrategy` (``TF_CONFIG`` on free
127.0.0.1 ports): the same code runs across machines with their own
``TF_CONFIG``. It stays TensorFlow's; on JAX, ``keras.distribution`` covers
the devices of one process (`.train_language_model`'s ``distribution``).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import backend_name, uses_tensorflow
from nengo_lmu.dl.language_model import language_model_from_config
from nengo_lmu.dl.lm_steps import is_chief
from nengo_lmu.dl.lm_training import train_language_model
from nengo_lmu.validation import check_int


def free_ports(n):
    """``n`` distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def train_multiworker(
    config,
    data,
    token_budget,
    seq_len,
    batch_size,
    n_workers=2,
    lr=2e-3,
    warmup=0.05,
    seed=0,
    model_seed=0,
    timeout=300,
    workdir=None,
):
    """Train under ``MultiWorkerMirroredStrategy`` in local worker processes.

    Each of ``n_workers`` processes gets ``TF_CONFIG`` naming all of them on
    127.0.0.1, builds the model from ``config`` (``model.config``) with
    ``model_seed`` inside the strategy's scope and runs
    `train_language_model` on ``data`` with the *global* ``batch_size``.
    Returns the chief's final weights (a list of arrays, as
    ``model.get_weights()``).
    """
    if not uses_tensorflow():
        raise ValidationError(
            f"needs TensorFlow (MultiWorkerMirroredStrategy); {backend_name()} runs here: "
            "on JAX, keras.distribution.DataParallel spreads one process over its devices "
            "(train_language_model's distribution)",
            attr="backend",
        )
    n_workers = check_int("n_workers", n_workers)
    workdir = workdir or tempfile.mkdtemp(prefix="lm_multiworker")
    os.makedirs(workdir, exist_ok=True)
    np.save(os.path.join(workdir, "data.npy"), np.asarray(data, dtype=np.int32))
    spec = dict(
        config=config,
        token_budget=token_budget,
        seq_len=seq_len,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        seed=seed,
        model_seed=model_seed,
        workdir=workdir,
    )
    with open(os.path.join(workdir, "spec.json"), "w") as f:
        json.dump(spec, f)
    ports = free_ports(n_workers)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for i in range(n_workers):
        env = dict(
            os.environ,
            CUDA_VISIBLE_DEVICES="",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
        )
        log = open(os.path.join(workdir, f"worker{i}.log"), "w")
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "nengo_lmu.dl.lm_multiworker", workdir],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    try:
        for p, _ in procs:
            p.wait(timeout=timeout)
    finally:
        for p, log in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()
    bad = [i for i, (p, _) in enumerate(procs) if p.returncode != 0]
    if bad:
        with open(os.path.join(workdir, f"worker{bad[0]}.log")) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"worker {bad[0]} failed:\n{tail}")
    with np.load(os.path.join(workdir, "weights.npz")) as z:
        return [z[f"w{i}"] for i in range(len(z.files))]


def _worker_main(workdir):
    import tensorflow as tf

    # the strategy must exist before any other TensorFlow op runs
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with open(os.path.join(workdir, "spec.json")) as f:
        spec = json.load(f)
    data = np.load(os.path.join(workdir, "data.npy"))
    result = train_language_model(
        lambda: language_model_from_config(spec["config"], seed=spec["model_seed"]),
        data,
        spec["token_budget"],
        spec["seq_len"],
        spec["batch_size"],
        lr=spec["lr"],
        warmup=spec["warmup"],
        seed=spec["seed"],
        progress=False,
        strategy=strategy,
    )
    if is_chief(strategy):
        weights = result.model.get_weights()
        np.savez(
            os.path.join(workdir, "weights.npz"), **{f"w{i}": w for i, w in enumerate(weights)}
        )


if __name__ == "__main__":
    _worker_main(sys.argv[1])


__all__ = ["free_ports", "train_multiworker"]
