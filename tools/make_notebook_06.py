"""Write notebooks/06-lmuformer.ipynb (stored without outputs)."""

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

md("""
# LMUFormer that really streams

LMUFormer (Liu et al., ICLR 2024) stacks a convolutional patch embedding, an
LMU block (a scalar `u` per frame, its Legendre memory, `h = f(W_h [m; x])`)
and a convolutional channel mixer; the spiking version puts LIF neurons along
the frame axis. It is trained in parallel over whole clips and sold for
streaming, one frame at a time.

`nengo_lmu.dl.lmuformer` builds it **causal by default** (`lookahead=0`: every
kernel-3 conv of the embedding looks only at past frames; the published
symmetric padding, `lookahead=5`, needs five future frames before it can
decide anything), and `nengo_lmu.dl.streaming_network` turns a trained model
into a Nengo network that takes one frame per step: batch norm folded into
the weights, convolutions as delay lines, the memory as a `LegendreMemory`,
spiking layers as `DiscreteLIF` ensembles. Its output at step `t` is the
parallel model's score at frame `t`.

Data: the 35 Speech Commands keywords spoken by the eSpeak NG synthesiser
(`nengo_lmu.speech.spoken_keywords`), the test clips from voices never heard in
training. `NENGO_LMU_QUICK=1` (the test suite sets it) runs a tiny version;
the README's numbers come from `nengo-lmu train-lmuformer`.
""")
code("""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from nengo_lmu.dl import lmuformer, operation_counts, run_streaming, streaming_network
from nengo_lmu.dl.lmuformer import final_scores_model
from nengo_lmu.apps.experiments.lmuformer import frames_to_fraction
from nengo_lmu.apps.speech import spoken_keywords

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
if QUICK:
    KEYWORDS, N_TRAIN, N_TEST, N_MELS, DIM, EPOCHS = ["yes", "no", "up", "down"], 6, 3, 16, 8, 1
else:
    KEYWORDS, N_TRAIN, N_TEST, N_MELS, DIM, EPOCHS = None, 40, 12, 20, 32, 8
data = spoken_keywords(KEYWORDS, n_train=N_TRAIN, n_test=N_TEST, n_mels=N_MELS)
mean = data["x_train"].mean(axis=(0, 1))
std = data["x_train"].std(axis=(0, 1)) + 1e-6
x_train, x_test = [((data[k] - mean) / std).astype(np.float32) for k in ("x_train", "x_test")]
y_train, y_test = data["y_train"], data["y_test"]
n_classes, n_frames = len(data["keywords"]), x_train.shape[1]
print(x_train.shape, x_test.shape)
print("test-only voice variants:", list(data["test_variants"]))
""")
md("A clip: log-mel energies, 25 ms windows every 10 ms (98 frames per second).")
code("""
fig, ax = plt.subplots(figsize=(7, 2.5))
ax.imshow(data["x_train"][0].T, origin="lower", aspect="auto")
ax.set_title(f"'{data['keywords'][y_train[0]]}' spoken by {data['voices_train'][0]}")
ax.set_xlabel("frame")
ax.set_ylabel("mel bin")
plt.show()
""")
md("""
## Causality, checked

Change one frame and see which outputs move. With `lookahead=0` nothing before
the changed frame moves; with the published padding the five frames before it
do: that is the latency the published embedding adds.
""")
code("""
rng = np.random.RandomState(0)
probe = rng.randn(1, 40, N_MELS).astype(np.float32)
for lookahead in (0, 5):
    m = lmuformer(N_MELS, n_classes, dim=DIM, theta=n_frames, lookahead=lookahead, seed=0)
    a = m.predict(probe, verbose=0)[0]
    changed = probe.copy()
    changed[0, 25] += 1
    b = m.predict(changed, verbose=0)[0]
    moved = np.flatnonzero(np.abs(a - b).max(axis=1) > 0)
    print(f"lookahead={lookahead}: changing frame 25 moves outputs from frame {moved[0]}")
""")
md("## Train the causal LMUFormer and spiking LMUFormer in parallel")
code("""
models = {}
for spiking in (False, True):
    model = lmuformer(N_MELS, n_classes, dim=DIM, theta=n_frames, spiking=spiking,
                      n_frames=n_frames, seed=0)
    train = final_scores_model(model)  # loss on the clip's mean features
    train.compile(tf.keras.optimizers.Adam(3e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    train.fit(x_train, y_train, batch_size=64, epochs=EPOCHS, verbose=0)
    acc = np.mean(np.argmax(train.predict(x_test, verbose=0), -1) == y_test)
    name = "spiking LMUFormer" if spiking else "LMUFormer"
    models[name] = model
    ops = operation_counts(model, x_test)
    print(f"{name}: test accuracy {acc:.3f} (unseen voices), {ops['params']} parameters, "
          f"{ops['macs']:.3g} MACs + {ops['acs']:.3g} ACs per clip")
""")
md("""
## Stream it: one frame per Nengo step

The trained models become Nengo networks. In `nengo.Simulator` (float64) the
streamed per-frame scores match the parallel model's at every frame.
""")
code("""
clips = x_test[:3]
for name, model in models.items():
    net = streaming_network(model)
    streamed = run_streaming(net, clips, backend="nengo")
    parallel = model.predict(clips, verbose=0)
    print(f"{name}: {len(net.all_ensembles)} ensembles, largest |streamed - parallel| "
          f"= {np.abs(streamed - parallel).max():.2e}")
""")
md("""
## Early decisions, honestly

Accuracy against frames seen, from the streaming network (NengoDL, all test
clips), with no look-ahead and no zero padding: the decision at frame `t` is
what the network outputs after frame `t`.
""")
code("""
fig, ax = plt.subplots(figsize=(6, 4))
for name, model in models.items():
    streamed = run_streaming(streaming_network(model), x_test, backend="nengo_dl",
                             minibatch_size=min(100, len(x_test)))
    curve = np.mean(np.argmax(streamed, -1) == y_test[:, None], axis=0)
    f99 = frames_to_fraction(curve)
    ax.plot(np.arange(1, n_frames + 1), curve, label=f"{name} (99% of final from frame {f99})")
    ax.axvline(f99, ls=":", color=ax.lines[-1].get_color())
ax.set_xlabel("frames seen (10 ms each)")
ax.set_ylabel("test accuracy")
ax.legend()
plt.show()
""")
md("## Spikes of the streaming spiking LMUFormer on one clip")
code("""
net = streaming_network(models["spiking LMUFormer"])
_, spikes = run_streaming(net, x_test[:1], backend="nengo", probe_spikes=True)
fig, axes = plt.subplots(len(spikes), 1, figsize=(7, 9), sharex=True)
for ax, ens, s in zip(axes, net.spiking_ensembles, spikes):
    t, n = np.nonzero(s[0])
    ax.scatter(t, n, s=2, marker="|", c="k")
    ax.set_ylabel(ens.label.replace("_lif", ""), rotation=0, ha="right", fontsize=7)
    ax.set_yticks([])
axes[-1].set_xlabel("frame")
plt.show()
""")

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, "notebooks/06-lmuformer.ipynb")
