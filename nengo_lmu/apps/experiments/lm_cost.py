"""The language models' cost against sequence length: LMU against transformer.

`run_lm_cost` measures, at batch 1, the training time per token and the
peak resident memory of one training step (`measure_train_memory`, in a
fresh process), and the generation time per token at a given context
length (the LMU's recurrent step against the transformer's
key/value-cache step). It returns an `LMCostResult`; the CLI,
`benchmarks/lm_scaling.py` and notebook 07 call it. The models are those
of `nengo_lmu.apps.experiments.language_model`.
"""

import time
from dataclasses import dataclass

import numpy as np

from nengo_lmu.apps.experiments.language_model import require_keras
from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.tables import format_table


@dataclass
class LMCostResult(ExperimentResult):
    """What `run_lm_cost` returns: one row per (model, sequence length)."""

    rows: list  # (model, n, train s/token, train peak MB, generate ms/token)
    settings: dict

    def table(self):
        """Each row, in microseconds per training token, with the LMU's
        speed over each other model's at the same length."""
        lmu = {r[1]: r for r in self.rows if r[0] == "lmu"}
        rows = []
        for r in self.rows:
            peer = lmu.get(r[1]) if r[0] != "lmu" else None
            ratios = (peer[2] / r[2], peer[4] / r[4]) if peer else (None, None)
            rows.append((r[0], r[1], 1e6 * r[2], r[3], r[4]) + ratios)
        columns = ("model", "n", "train us/token", "train peak MB", "generate ms/token")
        return format_table(columns + ("lmu/this train", "lmu/this generate"), rows)

    def column(self, model, index):
        return [r[index] for r in self.rows if r[0] == model]


def _rss_mb(field_name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _build(kind, d, n_layers, order, theta, seed, max_len):
    require_keras("the language model")
    from nengo_lmu.dl import lmu_language_model, transformer_language_model
    from nengo_lmu.text import VOCAB_SIZE

    if kind == "transformer":
        return transformer_language_model(VOCAB_SIZE, d, n_layers, seed=seed, max_len=max_len)
    return lmu_language_model(
        VOCAB_SIZE, d, n_layers, order, theta, seed=seed, global_attention=kind == "lmu_global"
    )


def _train_step_fn(model, n):
    """One Adam step on one sequence of ``n`` tokens, on whatever backend
    runs (one trace per length: the reduced-order path needs ``n``)."""
    from nengo_lmu.dl.compat import keras
    from nengo_lmu.dl.lm_steps import make_training_steps

    optimizer = keras.optimizers.Adam(1e-4)
    optimizer.build(model.trainable_variables)
    return make_training_steps(model, optimizer, n)


def _memory_probe(kind, n, d, n_layers, order, theta, seed):
    """Peak resident MB added by one training step in this (fresh) process."""
    from nengo_lmu.text import VOCAB_SIZE

    model = _build(kind, d, n_layers, order, theta, seed, max_len=n)
    step = _train_step_fn(model, n)
    seq = np.random.default_rng(seed).integers(0, VOCAB_SIZE, (1, n + 1)).astype(np.int32)
    before = _rss_mb("VmRSS")
    step(seq)
    return _rss_mb("VmHWM") - before


def measure_train_memory(kind, n, d=32, n_layers=2, order=40, theta=128, seed=0):
    """Run `_memory_probe` in a fresh Python process; MB (nan if it fails).

    A fresh process, with glibc's mmap threshold fixed low so that large
    freed buffers go back to the system, is the only clean way to read a
    peak on the CPU: TensorFlow offers no allocator statistics there. The
    number includes tracing the step (about constant in ``n``).
    """
    import os
    import subprocess
    import sys

    code = (
        "import sys; from nengo_lmu.apps.experiments.lm_cost import _memory_probe; "
        f"print(_memory_probe({kind!r}, {n}, {d}, {n_layers}, {order}, {theta}, {seed}))"
    )
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        MALLOC_MMAP_THRESHOLD_="131072",
        CUDA_VISIBLE_DEVICES="",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def _fastest_train_step(model, seq, repeats):
    """The fastest of ``repeats`` training steps on ``seq`` (after one to
    trace): the least disturbed by other processes."""
    step = _train_step_fn(model, seq.shape[1] - 1)
    step(seq)  # trace
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step(seq)
        times.append(time.perf_counter() - t0)
    return min(times)


def _filled_state(stream, n, rng):
    """The stepper's state as ``n`` tokens would leave it: random values of
    the right shapes (the LMU memory is constant in size; key/value caches
    hold ``n`` positions, with room for one more)."""
    from nengo_lmu.dl.compat import ops

    def tensor(shape):
        return ops.convert_to_tensor(rng.normal(size=shape), dtype="float32")

    state = []
    for s in stream.state:
        if len(s) == 1:  # LMU memory only
            state.append((tensor(s[0].shape),))
            continue
        filled = [tensor((1, n + 1) + tuple(t.shape[2:])) for t in s[-2:]]
        memory = (tensor(s[0].shape),) if len(s) == 3 else ()  # LMU memory and a cache
        state.append(memory + tuple(filled))
    return tuple(state)


def _fastest_generation(stream, n, gen_steps, rng):
    """Seconds per generated token at a context of ``n`` tokens (the fastest
    of ``gen_steps`` steps, after one to trace)."""
    stream.reset(1)
    stream.state, stream.position = _filled_state(stream, n, rng), n
    stream.step([1])  # trace for this shape
    gen = []
    for _ in range(gen_steps):
        t0 = time.perf_counter()
        stream.step([1])
        gen.append(time.perf_counter() - t0)
    return min(gen)


def run_lm_cost(
    seq_lens=(256, 512, 1024, 2048, 4096, 8192),
    d=32,
    n_layers=2,
    order=40,
    theta=128,
    repeats=3,
    gen_steps=20,
    models=("lmu", "transformer"),
    seed=0,
    measure_memory=True,
    log=print,
):
    """Training and generation cost against sequence length (batch 1).

    For each model and length ``n`` (the models take turns): the fastest of
    ``repeats`` training steps (forward, backward, Adam update) on one
    sequence of ``n`` tokens, divided by ``n``; the rise of the process's peak resident memory during that
    step (`measure_train_memory`: Linux ``VmHWM`` of a fresh process); and the
    time per generated token when the stepper already holds a context of
    ``n`` tokens (the transformer's cache filled with ``n`` positions, the
    LMU's memory a constant-size state), the fastest of ``gen_steps`` steps.
    Fastest-of timings are the least disturbed by other processes.
    """
    require_keras("the language model")
    from nengo_lmu.dl import recurrent_lm
    from nengo_lmu.text import VOCAB_SIZE

    rng = np.random.default_rng(seed)
    built = {}
    for kind in models:
        model = _build(
            kind, d, n_layers, order, theta, seed, max_len=max(seq_lens) + gen_steps + 1
        )
        built[kind] = (model, recurrent_lm(model))
    rows = []
    # the models take turns at each length, so load from elsewhere hits both alike
    for n in sorted(seq_lens):
        seq = rng.integers(0, VOCAB_SIZE, (1, n + 1)).astype(np.int32)
        for kind in models:
            model, stream = built[kind]
            seconds = _fastest_train_step(model, seq, repeats)
            peak = (
                measure_train_memory(kind, n, d, n_layers, order, theta, seed)
                if measure_memory
                else float("nan")
            )
            row = (
                kind,
                n,
                seconds / n,
                peak,
                1e3 * _fastest_generation(stream, n, gen_steps, rng),
            )
            rows.append(row)
            if log:
                log(
                    f"{kind:11s} n={n:5d}: train {1e6 * row[2]:.1f} us/token, "
                    f"peak +{peak:.0f} MB, generate {row[4]:.2f} ms/token"
                )
    rows.sort(key=lambda r: (list(models).index(r[0]), r[1]))
    settings = dict(
        seq_lens=list(seq_lens),
        d=d,
        n_layers=n_layers,
        order=order,
        theta=theta,
        repeats=repeats,
        gen_steps=gen_steps,
        models=list(models),
        seed=seed,
    )
    return LMCostResult(rows, settings)


__all__ = ["LMCostResult", "run_lm_cost", "measure_train_memory"]
