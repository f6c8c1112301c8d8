"""Write notebooks/01-legendre-memory.ipynb (stored without outputs)."""

from nbgen import Notebook

nb = Notebook("notebooks/01-legendre-memory.ipynb")
md, code = nb.md, nb.code

md("""
# The Legendre memory

The memory of a Legendre Memory Unit (LMU) is a linear system of `order`
states that holds a sliding window of its input, the last `theta` seconds,
as coefficients of the shifted Legendre polynomials. This notebook shows

1. the Legendre polynomials that span the window,
2. the memory's impulse response,
3. decoding delayed copies of the input from the memory,
4. the memory as an exact nengo network and as spiking neurons.

Set the environment variable `NENGO_LMU_QUICK=1` for short simulations (the
test suite does).
""")
code("""
import os

import matplotlib.pyplot as plt
import nengo
import numpy as np

import nengo_lmu
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.apps.plots import plot_delay
from nengo_lmu.apps.tasks import run_delay_task

QUICK = os.environ.get("NENGO_LMU_QUICK", "0") == "1"
DURATION = 2.0 if QUICK else 10.0
""")
md("""
## 1. The Legendre polynomials over the window

Row `i` of `legendre_readout(order, r)` is `P_i(2r - 1)`: the value of the
`i`-th shifted Legendre polynomial at the relative delay `r` (0 = now,
1 = `theta` ago). Decoding `u(t - r*theta)` is a dot product of these rows
with the memory.
""")
code("""
order = 6
r = np.linspace(0, 1, 200)
P = nengo_lmu.legendre_readout(order, r)
plt.figure(figsize=(7, 3))
plt.plot(r, P)
plt.xlabel("relative delay r = delay / theta")
plt.ylabel("P_i(2r - 1)")
plt.title(f"The first {order} shifted Legendre polynomials")
plt.show()
""")
md("""
## 2. Impulse response

`legendre_system(order, theta)` is the continuous `(A, B)`; `.discretize(dt)`
gives the zero-order-hold system, and `.impulse(n)` its state response
`H[k] = Ad^k Bd`. After `theta` the memory forgets: the window has passed.
""")
code("""
theta, dt = 0.1, 0.001
dsys = nengo_lmu.legendre_system(order, theta).discretize(dt)
H = dsys.impulse(int(1.5 * theta / dt))[:, :, 0]
t = np.arange(len(H)) * dt
fig, ax = plt.subplots(1, 2, figsize=(11, 3))
ax[0].plot(t, H)
ax[0].axvline(theta, color="k", ls="--")
ax[0].set_xlabel("time since impulse (s)")
ax[0].set_title("memory state after a unit impulse")
# decoding the delayed impulse: a bump near r*theta for each r
for rr in (0.25, 0.5, 0.75, 1.0):
    ax[1].plot(t, H @ nengo_lmu.legendre_readout(order, rr), label=f"r={rr}")
ax[1].set_xlabel("time since impulse (s)")
ax[1].set_title("decoded u(t - r theta)")
ax[1].legend()
plt.show()
""")
md("""
## 3. Delay readouts in a nengo network

`LegendreMemory` is a `nengo.Network`; `add_delay_output(r)` adds a node that
decodes the input delayed by `r*theta`. With `n_neurons=None` the memory is
exact: nodes stepping the discrete recurrence.
""")
code("""
with nengo.Network(seed=0) as net:
    stim = nengo.Node(nengo.processes.WhiteSignal(DURATION, high=5, rms=0.3, seed=1))
    mem = LegendreMemory(order=12, theta=0.2)
    nengo.Connection(stim, mem.input, synapse=None)
    rs = [0.0, 0.5, 1.0]
    delays = mem.add_delay_output(rs)
    p_u = nengo.Probe(stim)
    p_d = nengo.Probe(delays)
with nengo.Simulator(net, progress_bar=False) as sim:
    sim.run(min(DURATION, 2.0))

plt.figure(figsize=(9, 3))
plt.plot(sim.trange(), sim.data[p_u], "k", lw=2, label="input")
for i, rr in enumerate(rs):
    plt.plot(sim.trange(), sim.data[p_d][:, i], label=f"decoded u(t - {rr} theta)")
plt.xlabel("time (s)")
plt.legend()
plt.show()
""")
md("""
## 4. Exact and spiking memory on the delay task

10 Hz white noise (rms 0.3), `theta` = 0.1 s, order 6. The spiking form uses
166 LIF neurons per memory dimension (996 in total). It maps the zero-order-hold
system onto nengo's lowpass synapse exactly (NEF principle 3), represents a
scaled version of the state so each dimension spans about [-1, 1],
and reads the state back through the same synapse. NRMSE is against the input
delayed by exactly `theta`, after the first second.
""")
code("""
exact = run_delay_task(duration=DURATION, discard=1.0 if DURATION > 1 else 0.2)
spiking = run_delay_task(
    n_neurons=166, duration=DURATION, discard=1.0 if DURATION > 1 else 0.2, label="LIF"
)
for res in (exact, spiking):
    print(f"{res.label:6s} NRMSE {res.nrmse:.4f}  best lag {res.best_lag_steps} steps  "
          f"{res.n_neurons} neurons")
plot_delay([exact, spiking], theta=0.1)
plt.show()
""")
md("""
## 5. Readout error against order

Decoding a smooth signal across the whole window: the error falls quickly with
the memory's order.
""")
code("""
theta, dt = 1.0, 0.001
t = np.arange(int(4 * theta / dt)) * dt
u = np.sin(2 * np.pi * 0.9 * t) + 0.5 * np.sin(2 * np.pi * 1.4 * t + 1)
rs = np.linspace(0, 1, 11)
start = int(1.5 * theta / dt)
errors = []
orders = range(4, 13, 2)
for q in orders:
    x = nengo_lmu.legendre_system(q, theta).discretize(dt).simulate(u, output=False)
    Y = x @ nengo_lmu.legendre_readout(q, rs).T
    err = []
    for i, rr in enumerate(rs):
        k = max(int(round(rr * theta / dt)) - 1, 0)
        err.append(np.sqrt(np.mean((Y[start:, i] - u[start - k:len(u) - k]) ** 2)) / u.std())
    errors.append(np.mean(err))
plt.semilogy(list(orders), errors, "o-")
plt.xlabel("order")
plt.ylabel("mean NRMSE over r in [0, 1]")
plt.show()
print(dict(zip(orders, np.round(errors, 5))))
""")

nb.write()
