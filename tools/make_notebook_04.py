"""Write notebooks/04-loihi.ipynb (stored without outputs)."""

import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s.strip()))  # noqa: E731
code = lambda s: cells.append(nbf.v4.new_code_cell(s.strip()))  # noqa: E731

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
import warnings

warnings.simplefilter("ignore")
import matplotlib.pyplot as plt
import nengo
import numpy as np

from nengo_lmu import loihi
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

`LoihiLegendreMemory` connects populations neuron to neuron (no decode
neurons), brings the input in through an on-chip input ensemble (a block has
one synaptic time constant, and host input always passes the chip's 5 ms
filter), and uses LIF neurons at 100-200 Hz. `prepare` shows where everything
runs.
""")
code("""
n_neurons = 50 if QUICK else 200
with nengo.Network(seed=0) as net:
    stim = nengo.Node(nengo.processes.WhiteSignal(10, high=10, rms=0.3, seed=0))
    mem = loihi.LoihiLegendreMemory(6, 0.1, n_neurons=n_neurons, seed=0)
    nengo.Connection(stim, mem.input, synapse=None)
print(loihi.prepare(net))
""")
md("""
## The delay task: nengo, the emulator and the emulator without discretisation
""")
code("""
duration = 1.5 if QUICK else 10.0
results, resources, report = loihi.delay_comparison(
    targets=("sim", "simreal"), n_neurons=n_neurons, duration=duration,
    discard=0.5 if QUICK else 1.0, seed=0)
for name, r in results.items():
    print(f"{name:8s} NRMSE {r.nrmse:.4f}  best lag {r.best_lag_steps} steps")
plt.figure(figsize=(10, 3))
r = results["nengo"]
plt.plot(r.t, r.delayed, "k", lw=2, label="input delayed by theta")
for name, r in results.items():
    plt.plot(r.t, r.output, lw=1, label=name)
plt.xlim(duration - 1, duration)
plt.legend(); plt.xlabel("time (s)");
""")
code("""
for key in ("cores", "compartments", "in_axons", "out_axons", "weights", "spikes",
            "synaptic_ops", "activation_sparsity"):
    print(f"{key:20s} " + "  ".join(f"{t}: {res[key]:.4g}" for t, res in resources.items()))
""")
md("""
## A digits classifier with spiking hidden neurons

A Loihi neuron spikes at most once per step, so a rate-trained hidden layer
cannot signal its value in one step: each sample is held for
`steps_per_sample` steps (the memory's `theta` scaled by the same factor, so
it is unchanged at the end of each sample) and the logits are the readout
averaged over the last sample. The memory runs on the host, exactly; the
hidden neurons on the chip. This needs a cell without a hidden-to-hidden
recurrence. In quick mode the classifier is small and untrained (this only
shows the steps); otherwise it is trained with NengoDL first.
""")
code("""
from nengo_lmu.networks import LMUClassifier

path = "lmu_digits_loihi.npz"
cell = dict(units=100, order=48, theta=64.0, hidden_to_hidden=False,
            hidden_neuron_type=nengo.RectifiedLinear())
if QUICK:
    cell.update(units=8, order=4)
    LMUClassifier(10, [cell], seed=0).save(path)
elif not os.path.exists(path):
    from nengo_lmu.data import permuted_digits
    from nengo_lmu.dl import train_classifier

    clf = LMUClassifier(10, [cell], seed=0)
    res = train_classifier(clf, permuted_digits(), epochs=20, seed=0)
    clf.save(path, res.weights)
    print("rate accuracy (NengoDL):", res.test_accuracy)
out = loihi.digits_comparison(path, n_test=2 if QUICK else 30, gain=150,
                              steps_per_sample=2 if QUICK else 20, targets=("sim",))
print(out["sim"]["report"])
for name, info in out.items():
    print(f"{name:6s} accuracy {info['accuracy']:.3f} on {info['n']} sequences")
print(out["sim"]["resources"])
""")

nb = nbf.v4.new_notebook()
nb["cells"] = cells
nb["metadata"] = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
nbf.write(nb, "notebooks/04-loihi.ipynb")
