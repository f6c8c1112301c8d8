"""Write notebooks/04-loihi.ipynb (stored without outputs)."""

from nbgen import Notebook

nb = Notebook("notebooks/04-loihi.ipynb")
md, code = nb.md, nb.code

md("""
# LMU networks on the Loihi emulator

`nengo_lmu.loihi` prepares a network for nengo-loihi, reports what runs on the
chip and what on the host, runs it on the emulator (`target="sim"`, with
integer state and weights as on the chip, or `"simreal"`, in floating point),
and counts what the chip used and did.

Two networks: the delay task with the Loihi-ready spiking Legendre memory,
and a digits classifier with spiking hidden neurons. Each is compared with the
same network on `nengo.Simulator`.

`NENGO_LMU_QUICK=1` (the test suite sets it) runs short versions; the README's
numbers come from `benchmarks/loihi_emulator.py`.
""")
code("""
import os

import matplotlib.pyplot as plt
import nengo
import numpy as np

from nengo_lmu import loihi
from nengo_lmu.apps.experiments import loihi as experiment
from nengo_lmu.networks import LegendreMemory

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
""")
md("""
## Why the plain spiking memory does not build

The plain neural `LegendreMemory` connects its populations with decoded
connections. On Loihi each goes through decode neurons, whose block must hold
the connection's weights in 8 bits with one shared exponent: the small entries
of the recurrent matrix make that impossible. `prepare` builds the network once
and reports the failure with the object's name.
""")
code("""
with nengo.Network(seed=0) as plain:
    stim = nengo.Node(0.1)
    mem = LegendreMemory(6, 0.1, n_neurons=100, neuron_type=nengo.SpikingRectifiedLinear())
    nengo.Connection(stim, mem.input, synapse=None)
try:
    loihi.prepare(plain)
except nengo.exceptions.BuildError as e:
    print(str(e)[:300])
""")
md("""
## The Loihi-ready memory

`LoihiLegendreMemory` is laid out for the chip's timing and weights:

- on the host, on/off pairs of integrate-and-fire neurons encode the input as
  spikes (16 pairs with spread phases: 16 levels a step); their spikes are
  weighted on the chip straight into the state populations, through the same
  `Lowpass(0.05)` as the recurrence, so there is no extra input filter;
- the populations (LIF, 200-400 Hz, intercepts in [-0.5, 0.5], 200 per
  dimension) connect neuron to
  neuron (no decode neurons); `tau = 0.05` keeps the mapped recurrent entry
  `tau*A_00 + 1` away from zero, where its 8-bit weights would vanish;
- an on-chip relay repeats the input spikes, so the host's readout gets the
  input and the populations through the same chip-to-host path; the delay
  readout takes that path's latency (2 steps on the emulator) off the delay.

`prepare` shows where everything runs, and per block the time constant and
weight range the memory was designed for.
""")
code("""
n_neurons = 50 if QUICK else 200
with nengo.Network(seed=0) as net:
    stim = nengo.Node(nengo.processes.WhiteSignal(10, high=10, rms=0.3, seed=0))
    mem = loihi.LoihiLegendreMemory(6, 0.1, n_neurons=n_neurons)
    nengo.Connection(stim, mem.input, synapse=None)
print(loihi.prepare(net))
""")
md("""
## The delay task on the chip, against nengo and the naive mapping

The same memory on `nengo.Simulator` and on the emulator (`"sim"`), and the
naive mapping of nengo-loihi's old LMU example (continuous mapping, 100
`SpikingRectifiedLinear` per dimension, tau 0.1, decoded connections) on the
emulator, same input. NRMSE against the input delayed by exactly theta, no
alignment.
""")
code("""
duration = 1.5 if QUICK else 10.0
discard = 0.5 if QUICK else 1.0
results, resources, report = experiment.delay_comparison(
    targets=("sim",), n_neurons=n_neurons, duration=duration, discard=discard, seed=0)
naive = experiment.delay_comparison(
    targets=("sim",), memory=experiment.NaiveLoihiMemory, n_neurons=100,
    duration=duration, discard=discard, seed=0)
results["naive on sim"] = naive.results["sim"]
resources["naive on sim"] = naive.resources["sim"]
for name, r in results.items():
    print(f"{name:12s} NRMSE {r.nrmse:.4f}  best lag {r.best_lag_steps} steps")
plt.figure(figsize=(10, 3))
r = results["nengo"]
plt.plot(r.t, r.delayed, "k", lw=2, label="input delayed by theta")
for name, r in results.items():
    plt.plot(r.t, r.output, lw=1, label=name)
plt.xlim(duration - 1, duration); plt.ylim(-1.5, 1.5)
plt.legend(); plt.xlabel("time (s)");
""")
code("""
for key in ("cores", "compartments", "in_axons", "out_axons", "weights", "spikes",
            "synaptic_ops", "activation_sparsity"):
    print(f"{key:20s} " + "  ".join(f"{t}: {res[key]:.4g}" for t, res in resources.items()))
""")
md("""
## A digits classifier with a spiking hidden layer on the chip

`HostMemoryClassifier` lays a trained one-cell classifier out for Loihi:

- the host computes the exact Legendre memory of each sequence and plays
  `[x, m]` one sample per step, then holds the last sample for `hold_steps`;
- on the host, on/off integrate-and-fire pairs encode each feature as spikes
  (full scale: the largest value over the training sequences);
- on the chip, the cell's ReLU hidden layer spikes (`gain` Hz per unit), its
  input weights and `Lowpass(synapse)` applied on the chip;
- the host reads the hidden spikes through the readout weights, and the logits
  average the last `window` steps of the hold.

The same network object runs on `nengo.Simulator` and on the emulator. Its hidden
neurons are `nengo_loihi`'s `LoihiSpikingRectifiedLinear`, which have the chip's
integer inter-spike intervals. The cell must have no recurrence through the chip
(no hidden-to-hidden weights). In quick mode the classifier is small and untrained,
so this only shows the steps. Otherwise it is trained in parallel first, which takes
seconds.
""")
code("""
from nengo_lmu.apps.data import permuted_digits
from nengo_lmu.networks import LMUClassifier

path = "lmu_digits_loihi.npz"
if QUICK:
    LMUClassifier(10, [dict(units=8, order=4, theta=64.0, hidden_to_hidden=False,
                            hidden_neuron_type=nengo.RectifiedLinear())],
                  seed=0).save(path)
elif not os.path.exists(path):
    trained = experiment.train_digits_classifier(path, epochs=20, seed=0)
    print("rate accuracy:", trained.test_accuracy)
out = experiment.digits_comparison(path, n_test=4 if QUICK else None, targets=("sim",))
print(out["sim"]["report"])
for name, info in out.items():
    print(f"{name:6s} accuracy {info['accuracy']:.4f} on {info['n']} held-out sequences")
print(out["sim"]["resources"])
""")
md("""
One sequence in detail: the running readout on nengo and on the emulator. The
dashed line marks the end of the sequence, and the shaded band is the window
that gives the logits.
""")
code("""
data = permuted_digits()
net = loihi.HostMemoryClassifier(path, scale_x=data["x_train"])
x1 = data["x_test"][:1]
runs = {}
for target in ("nengo", "sim"):
    net.predict(x1, target=target)
    runs[target] = net.last_output[0]
fig, axes = plt.subplots(1, 2, figsize=(11, 3), sharey=True)
steps = net.steps_per_sequence
for ax, (name, y) in zip(axes, runs.items()):
    ax.plot(y, lw=0.8)
    ax.axvline(x1.shape[1] - 0.5, color="k", ls="--")
    ax.axvspan(steps - net.window, steps, color="0.9")
    ax.set_title(f"{name}: readout per step (digit {data['y_test'].ravel()[0]})")
    ax.set_xlabel("step")
""")

nb.write()
