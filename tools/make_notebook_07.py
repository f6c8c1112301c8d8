"""Write notebooks/07-lmu-language-model.ipynb (stored without outputs)."""

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

md("""
# The LMU language model with implicit self-attention

Seed 003 (Chilkuri et al., "Language modeling using LMUs: 10x better data
efficiency") builds a language model whose layers hold, for every one of the
`d` channels, a Legendre memory of the last `theta` tokens, compressed to `q`
coefficients: the matrix `M` (`d x q`) at each step. *Implicit
self-attention* then attends across a reduced version of that memory:

    Q, K, V = gelu(L_i M^T + b_i)        L_i: (q' x q), q' = q / 10
    M' = softmax(Q K^T / sqrt(d)) V      (q' x d)
    m  = p M'                             (d)

with an FFN before (or causal global attention, `global_attention=True`) and
after, layer norms and skips. Because `L_i` is linear, `L_i M` is the input
convolved with `L_i H` (`H` the memory's impulse response): appendix A.1's
reduced-order path, used by default.

This notebook trains the model, the same with global attention and a
transformer of the same non-embedding size (seed 003's `d = sqrt(N/24)`) on
byte-level text from the Python standard library, compares their validation
loss at three token budgets and per position, runs the trained LMU model one
token at a time, and measures cost against sequence length.

`NENGO_LMU_QUICK=1` (the test suite sets it) runs a tiny version; the numbers
in the README come from `benchmarks/lm_scaling.py` (notes/lm.md).
""")
code("""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

tf.get_logger().setLevel("ERROR")

from nengo_lmu.dl import lm_sizes, recurrent_lm
from nengo_lmu.apps.experiments.language_model import run_lm_cost, run_lm_scaling
from nengo_lmu.text import decode, encode, stdlib_corpus

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
if QUICK:
    SIZE, BUDGETS, SEQ, FILES, COST_LENS = 3000, (1024, 2048, 10240), 32, 20, (64, 128)
else:
    SIZE, BUDGETS, SEQ, FILES, COST_LENS = 20000, (40000, 125000, 400000), 256, None, (
        256, 512, 1024, 2048, 4096)
corpus = stdlib_corpus(seed=0, max_files=FILES)
print(corpus.describe())
print(lm_sizes(SIZE))
""")
md("""
## The same tokens, three budgets, three models

Each budget is its own run (linear warmup, cosine decay to zero at the
budget), seed 0. Loss in nats per byte on held-out files.
""")
code("""
res = run_lm_scaling(sizes=(SIZE,), budgets=BUDGETS, seeds=(0,), seq_len=SEQ,
                     batch_size=4 if QUICK else 8, val_sequences=4 if QUICK else 32,
                     corpus=corpus)
from nengo_lmu.tables import format_table

print(format_table(["model", "N target", "N", "tokens", "nats/byte", "sd", "bits/byte",
                    "seeds", "tok/s"], res.table()))
print()
print(format_table(["model", "N target", "tokens", "nats/byte",
                    "transformer tokens to match", "ratio"],
                   res.transformer_tokens_to_match()))
""")
code("""
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
for model in res.settings["models"]:
    ax1.plot(BUDGETS, [res.mean_loss(model, SIZE, b)[0] for b in BUDGETS], "o-", label=model)
    run = [r for r in res.runs if r.model == model and r.budget == max(BUDGETS)][0]
    ax2.plot(np.arange(1, SEQ + 1), run.per_position, label=model)
ax1.set_xscale("log"); ax1.set_xlabel("training tokens"); ax1.set_ylabel("val nats / byte")
ax2.set_xscale("log"); ax2.set_xlabel("position"); ax2.set_ylabel("nats / byte")
ax2.set_title("loss per position (largest budget)")
ax1.legend(); ax2.legend()
plt.show()
""")
md("""
## Loss curves during training

The running training loss of each model at the largest budget.
""")
code("""
fig, ax = plt.subplots(figsize=(6, 3.5))
for model in res.settings["models"]:
    run = [r for r in res.runs if r.model == model and r.budget == max(BUDGETS)][0]
    h = np.array(run.history)
    ax.plot(h[:, 1], h[:, 2], label=model)
ax.set_xlabel("tokens"); ax.set_ylabel("running train loss (nats)"); ax.legend()
plt.show()
""")
md("""
## Streaming: the LMU model one token at a time

`recurrent_lm` turns the trained model into a stepper: the memory is the state
update `m <- Ad m + Bd x`, with constant memory per stream. Its next-token
distributions equal the parallel model's.
""")
code("""
# a model trained at the smallest budget (the scaling runs above keep no models)
from nengo_lmu.dl import lmu_language_model
from nengo_lmu.dl.lm_training import train_language_model

model = lmu_language_model(257, theta=128, seed=0, **lm_sizes(SIZE).lmu_kwargs())
train_language_model(model, corpus.train, BUDGETS[0], SEQ, 4, lr=3e-3, progress=False)
tokens = encode("def main(argv=None):\\n    parser = argparse.ArgumentParser(")[None]
parallel = tf.nn.softmax(model(tokens)).numpy()
stepped = tf.nn.softmax(recurrent_lm(model).run(tokens)).numpy()
print("max |p_parallel - p_recurrent| =", np.abs(parallel - stepped).max())
print(repr(decode(recurrent_lm(model).generate(encode("import "), 80, 0.7, seed=0))))
""")
md("""
## Cost against sequence length

Training time per token and peak memory of one training step (batch 1), and
generation time per token with a context of that length. The LMU's recurrent
step does not depend on the context; the transformer's key/value cache does.
""")
code("""
cost = run_lm_cost(COST_LENS, d=32, repeats=2, gen_steps=5 if QUICK else 20,
                   measure_memory=not QUICK)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
for model in cost.settings["models"]:
    n = cost.column(model, 1)
    axes[0].plot(n, 1e6 * np.array(cost.column(model, 2)), "o-", label=model)
    axes[1].plot(n, cost.column(model, 3), "o-", label=model)
    axes[2].plot(n, cost.column(model, 4), "o-", label=model)
for ax, lab in zip(axes, ("train us / token", "train peak MB", "generate ms / token")):
    ax.set_xscale("log", base=2); ax.set_xlabel("sequence length"); ax.set_ylabel(lab)
axes[0].legend()
plt.show()
""")

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/07-lmu-language-model.ipynb")
