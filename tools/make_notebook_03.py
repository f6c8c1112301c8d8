"""Write notebooks/03-parallel-training.ipynb (stored without outputs)."""

from nbgen import Notebook

nb = Notebook("notebooks/03-parallel-training.ipynb")
md, code = nb.md, nb.code

md("""
# Train the LMU in parallel, run it in Nengo

The LMU's memory is a fixed linear system, so its value at every step of a
sequence can be computed at once instead of step by step.
`nengo_lmu.dl.LMULayer` does that in Keras (the *chunked* scan: inside chunks
of L steps one matrix product with the impulse response, the state carried
between chunks by powers of `Ad`). The weights it learns are exactly those of
`nengo_lmu.networks.LMUCell`, so the trained model converts back into the
Nengo network and runs one sample per step in `nengo.Simulator`, NengoDL,
or on the Loihi emulator.

`NENGO_LMU_QUICK=1` (set by the test suite) trains for 2 epochs; the README's
numbers come from `nengo-lmu train-digits --parallel` (20 epochs).
""")
code("""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from nengo_lmu.apps.data import permuted_digits
from nengo_lmu.dl import (
    LegendreMemoryLayer, legendre_memory, nengo_dl_logits, sequence_copy, to_classifier,
    train_parallel_classifier,
)

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
EPOCHS = 2 if QUICK else 20
""")
md("""
## Every mode computes the same memory

`mode="recurrent"` steps `m[t] = Ad m[t-1] + Bd u[t]`; `"chunked"` and `"fft"`
compute all steps at once. On a random input they agree to float64 rounding.
""")
code("""
rng = np.random.RandomState(0)
u = tf.constant(rng.randn(2, 300, 1))
ms = {mode: legendre_memory(u, 16, 100.0, mode=mode).numpy()
      for mode in ("recurrent", "chunked", "fft")}
for mode in ("chunked", "fft"):
    print(mode, "max |difference| to recurrent:", np.max(np.abs(ms[mode] - ms["recurrent"])))
plt.figure(figsize=(9, 3))
plt.plot(ms["recurrent"][0, :, :6])
plt.plot(ms["chunked"][0, :, :6], "k:", lw=1)
plt.title("first 6 memory coefficients: recurrent (colour) and chunked (dotted)")
plt.xlabel("step")
plt.show()
""")
md("""
## Train on permuted sequential digits

The same cell as in notebook 02 (100 ReLU units, order 48, theta 64 steps,
hidden-to-hidden weights), the same loss, optimiser and minibatches; only the
evaluation of the sequence differs.
""")
code("""
data = permuted_digits()
cell = dict(units=100, order=48, theta=64.0, hidden_activation="relu")
res = train_parallel_classifier(data, 10, [cell], epochs=EPOCHS, seed=0)
print(f"held-out accuracy {res.test_accuracy:.4f} after {EPOCHS} epochs, "
      f"{res.train_seconds:.1f} s of training")
""")
md("""
## Convert into the Nengo network and check it step by step

`to_classifier` builds an `LMUClassifier` (an `LMUCell` and a readout) with
the trained weights. NengoDL scores it on the held-out set; `nengo.Simulator`
runs one sequence, and its per-step logits are compared with those of the
Keras model (a copy returning every step).
""")
code("""
net = to_classifier(res.model, seed=0)
logits = nengo_dl_logits(net, data["x_test"])
acc = float(np.mean(logits.argmax(-1) == data["y_test"].ravel()))
print(f"converted, in NengoDL: held-out accuracy {acc:.4f} "
      f"(Keras: {res.test_accuracy:.4f}); largest logit difference "
      f"{np.max(np.abs(logits - res.test_logits)):.1e}")

x = data["x_test"][:1]
keras_steps = sequence_copy(res.model).predict(x, verbose=0)[0]
nengo_steps = net.predict(x, all_steps=True)[0]
fig, ax = plt.subplots(figsize=(9, 3.5))
ax.plot(keras_steps, lw=3, alpha=0.4)
ax.set_prop_cycle(None)
ax.plot(nengo_steps, "--", lw=1)
ax.set_xlabel("step (pixel)")
ax.set_ylabel("logit")
ax.set_title(f"Keras (thick) and nengo.Simulator (dashed), digit "
             f"{data['y_test'][0, 0, 0]}: max difference "
             f"{np.max(np.abs(keras_steps - nengo_steps)):.1e}")
plt.show()
""")
md("""
## Other ways in

`LegendreMemoryLayer` is the memory alone (put any Keras layers around it),
and any Keras model built from these layers converts with
`nengo_lmu.dl.convert(model)` (or `nengo_dl.Converter(model,
temporal_model=True)`). The layers also support `return_state`, `stateful`,
`go_backwards` and so `keras.layers.Bidirectional`.
""")
code("""
inp = tf.keras.Input((64, 1))
bi = tf.keras.layers.Bidirectional(LegendreMemoryLayer(8, 32.0))(inp)
print("Bidirectional memory output:", bi.shape)
""")

nb.write()
