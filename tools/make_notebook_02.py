"""Write notebooks/02-lmu-cell-nengodl.ipynb (stored without outputs)."""

from nbgen import Notebook

nb = Notebook("notebooks/02-lmu-cell-nengodl.ipynb")
md, code = nb.md, nb.code

md("""
# An LMU cell in Nengo, trained with NengoDL

`nengo_lmu.networks.LMUCell` is the full LMU cell (input `x`, encoded input
`u`, Legendre memory `m`, hidden state `h`) as a `nengo.Network`. Its weights
are connection transforms, so NengoDL trains them with `Simulator.fit`, and the
trained network runs in `nengo.Simulator`, with rate or spiking hidden neurons.

The task: scikit-learn's 8x8 digits, each image presented one pixel per step
(64 steps) in a fixed random order, classified at the last step. Each
simulator step is one sample, so `theta` is in steps.

`NENGO_LMU_QUICK=1` (the test suite sets it) trains for 2 epochs only; the
README's numbers come from 20 epochs (`nengo-lmu train-digits`).
""")
code("""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import matplotlib.pyplot as plt
import nengo
import numpy as np

from nengo_lmu.apps.data import permuted_digits
from nengo_lmu.dl import count_parameters, train_classifier
from nengo_lmu.networks import LMUClassifier

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
EPOCHS = 2 if QUICK else 20
data = permuted_digits()
print({k: v.shape for k, v in data.items() if k != "permutation"})
""")
md("""
## The data: one pixel per step

Inputs are `(batch, 64, 1)`, labels `(batch, 1, 1)`; the permutation scatters
neighbouring pixels across the sequence.
""")
code("""
fig, ax = plt.subplots(1, 2, figsize=(10, 2.5))
perm = data["permutation"]
image = np.empty(64)
image[perm] = data["x_train"][0, :, 0]
ax[0].imshow(image.reshape(8, 8), cmap="gray")
ax[0].set_title(f"digit {data['y_train'][0, 0, 0]}")
ax[1].plot(data["x_train"][0, :, 0])
ax[1].set_xlabel("step")
ax[1].set_title("the same digit as the permuted sequence")
plt.show()
""")
md("""
## Build and train

One cell of 100 ReLU units (so that it can run spiking later) with a memory of
order 48 over the whole sequence (`theta` = 64 steps); `train_classifier` runs
the usual NengoDL steps (`keep_history=False` on the logits probe, Adam,
cross-entropy on the last step) after checking the data.
""")
code("""
cells = [dict(units=100, order=48, theta=64.0, hidden_neuron_type=nengo.RectifiedLinear())]
clf = LMUClassifier(n_classes=10, cells=cells, seed=0)
print("trainable parameters:", count_parameters(clf))
res = train_classifier(clf, data, epochs=EPOCHS, minibatch_size=50)
print(f"held-out accuracy (NengoDL): {res.test_accuracy:.4f} after {EPOCHS} epochs")
plt.plot(res.history["loss"], label="loss")
plt.plot(res.history["accuracy"], label="training accuracy")
plt.xlabel("epoch")
plt.legend()
plt.show()
""")
md("""
## The same weights in `nengo.Simulator`

`train_classifier` wrote the trained weights back into the network
(`freeze_params`); `LMUClassifier.predict` runs each sequence in the nengo
reference simulator. The logits agree with NengoDL's.
""")
code("""
n = 60 if QUICK else len(data["x_test"])
ref = clf.predict(data["x_test"][:n])
print("max |nengo - NengoDL| logit difference:", np.max(np.abs(ref - res.test_logits[:n])))
print("nengo accuracy:", np.mean(ref.argmax(-1) == data["y_test"][:n].ravel()))
""")
md("""
## Saving, loading and spiking inference

`save` stores the configuration and weights; `load` rebuilds the network, here
with spiking hidden neurons: `SpikingRectifiedLinear(amplitude=1/g)` with gain
`g` has the same rate as the trained ReLU, and a larger `g` means more spikes
per step.
""")
code("""
clf.save("digits_lmu.npz", res.weights)
for g in (1e3, 1e4):
    spiking = LMUClassifier.load("digits_lmu.npz", overrides=dict(
        hidden_neuron_type=nengo.SpikingRectifiedLinear(amplitude=1 / g), hidden_gain=g))
    logits = spiking.predict(data["x_test"][:n])
    print(f"spiking, gain {g:g}: accuracy {np.mean(logits.argmax(-1) == data['y_test'][:n].ravel()):.4f}")
""")
md("""
## Inside the cell: the memory and the hidden state

Probing one sequence: the memory's Legendre coefficients evolve as pixels
arrive, and the hidden units read them.
""")
code("""
net = LMUClassifier.load("digits_lmu.npz")
with net:
    p_m = nengo.Probe(net.cells[0].memory.output)
    p_h = nengo.Probe(net.cells[0].output)
net._sequence.data = data["x_test"][0]
with nengo.Simulator(net, progress_bar=False) as sim:
    net._sequence.dt = sim.dt
    sim.run_steps(64)
fig, ax = plt.subplots(1, 2, figsize=(11, 3))
ax[0].plot(sim.data[p_m][:, :8])
ax[0].set_title("memory m (first 8 coefficients)")
ax[0].set_xlabel("step")
ax[1].imshow(sim.data[p_h].T, aspect="auto", cmap="viridis")
ax[1].set_title("hidden h (units x steps)")
ax[1].set_xlabel("step")
plt.show()
""")

nb.write()
