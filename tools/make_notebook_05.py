"""Write notebooks/05-l2mu.ipynb (stored without outputs)."""

from nbgen import Notebook

nb = Notebook("notebooks/05-l2mu.ipynb")
md, code = nb.md, nb.code

md("""
# L2MU: a Legendre Memory Unit made of spiking LIF populations

`nengo_lmu.networks.L2MU` (Leto et al., NICE 2025) replaces the LMU's encoder,
memory and hidden state by populations of discrete-time LIF neurons
(`nengo_lmu.discrete_lif.DiscreteLIF`) that communicate only by spikes:

    I_u[t] = e_x s_x[t] + e_h s_h[t-1] + e_m s_m[t-1]
    I_m[t] = Ad s_m[t-1] + Bd s_u[t]      (per memory row; Ad, Bd fixed)
    I_h[t] = W_x s_x[t] + W_h s_h[t-1] + W_m s_m[t]
    class scores = spike counts of the out population

NengoDL trains it by backpropagation through time, with the spike's derivative
replaced by an ATan surrogate, and learns each population's `beta` and
`threshold` too.

The task is event digits (`nengo_lmu.data.event_digits`): scikit-learn's 8x8
digits swept column by column past 8 "taxels" and sigma-delta encoded into 16
ON/OFF event channels, a stand-in for the event-based Braille data set.

`NENGO_LMU_QUICK=1` (the test suite sets it) runs a tiny version; the
README's numbers come from `nengo-lmu train-l2mu --loihi`.
""")
code("""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import matplotlib.pyplot as plt
import numpy as np

from nengo_lmu.apps.data import event_digits
from nengo_lmu.dl import train_spiking_classifier
from nengo_lmu.networks import L2MU

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
if QUICK:
    STEPS, EPOCHS, SAMPLES, MEMORY, HIDDEN = 20, 1, 200, 4, 16
else:
    STEPS, EPOCHS, SAMPLES, MEMORY, HIDDEN = 40, 15, None, 32, 96
data = event_digits(n_steps=STEPS, n_samples=SAMPLES)
print({k: np.shape(v) for k, v in data.items()})
""")
md("""
## One event sequence

Each taxel (image row) gives an ON channel (its signal rose by the threshold)
and an OFF channel (it fell).
""")
code("""
x0, y0 = data["x_test"][0], data["y_test"][0, 0, 0]
fig, ax = plt.subplots(figsize=(8, 3))
t, c = np.nonzero(x0)
ax.scatter(t, c, s=8, c=np.where(c % 2 == 0, "tab:red", "tab:blue"), marker="|")
ax.set_xlabel("step")
ax.set_ylabel("channel (even ON, odd OFF)")
ax.set_title(f"event digit {y0}")
plt.show()
""")
md("""
## Build and train

The 7-class Braille preset's betas, thresholds, order and theta, with smaller
populations than the paper's.
""")
code("""
net = L2MU.from_preset("braille7", 16, 10, memory_size=MEMORY, hidden_size=HIDDEN, seed=0)
print(net.n_parameters, "parameters; initial (beta, threshold):", net.neuron_params)
res = train_spiking_classifier(net, data, epochs=EPOCHS, minibatch_size=64,
                               learning_rate=2e-3, seed=0)
print(f"held-out accuracy in NengoDL: {res.test_accuracy:.4f}")
print("trained (beta, threshold):",
      {k: tuple(round(v, 3) for v in p) for k, p in net.neuron_params.items()})
""")
md("""
## The trained network in the nengo reference simulator

The same network, now in `nengo.Simulator` (float64; NengoDL trained in
float32), one sequence at a time from rest.
""")
code("""
m = net.metrics(data["x_test"])
acc = np.mean(m["counts"].argmax(-1) == data["y_test"].ravel())
print(f"held-out accuracy in nengo: {acc:.4f}")
for k in ("parameters", "activation_sparsity", "synaptic_ops", "dense_ops",
          "membrane_updates", "footprint_bytes"):
    print(f"{k:>20}: {m[k]:.4g}")
""")
md("""
## Rasters of the four populations for one sample
""")
code("""
probes = net.add_probes()
counts, rec = net.run_sequences(data["x_test"][:1], probes=probes)
fig, axes = plt.subplots(4, 1, figsize=(9, 9), sharex=True,
                         gridspec_kw={"height_ratios": [1, 3, 2, 1]})
for ax, name in zip(axes, ("u", "m", "h", "out")):
    t, n = np.nonzero(rec[name][0])
    ax.scatter(t, n, s=4, marker="|", c="k")
    ax.set_ylabel(f"{name}\\n({rec[name].shape[2]} neurons)")
    ax.set_ylim(-0.5, rec[name].shape[2] - 0.5)
axes[-1].set_xlabel("step")
axes[0].set_title(f"digit {y0}: output spike counts {counts[0].astype(int).tolist()}")
plt.show()
""")

nb.write()
