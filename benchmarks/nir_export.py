"""NIR export: the spiking networks in nengo and in an independent reader.

What is measured, per network: the time `nengo_lmu.nir.to_nir` takes, the
size of the graph written by ``nir.write`` (HDF5), and the network's score
run two ways: in nengo (the network itself) and in an independent NIR reader
(snnTorch's neuron modules, ``Leaky`` / ``Synaptic``, stepped by nirtorch's
interpreter; snnTorch's reader takes steps of 1e-4 s, so the exported graph
uses its conventions: ``spike_area=1e-4``, ``voltage_scale="snntorch"``),
with the ratio reader / nengo.

- L2MU on event digits (`event_digits`, 16 channels, 10 classes), trained
  with the package's own NengoDL path (`train_spiking_classifier`) with
  ``reset="zero"`` (NIR's reset): held-out accuracy in nengo and in the
  reader, and the fraction of held-out sequences whose class agrees. The
  graph's step is 1e-4 s (one reader step per frame).
- The spiking memory on the delay task (`LegendreMemory`, order 6, theta
  0.1 s, 6 x 166 = 996 LIF, synapse 0.1 s, 10 Hz white noise, seed 0):
  NRMSE of the decoded delayed signal against the truly delayed input after
  the first second, in nengo and in the reader, and the NRMSE of the reader's
  signal against nengo's. Two memories: ``demo`` (the memory's default
  neurons, 1 ms refractory period and nengo's voltage floor at 0, dt 1 ms:
  exported with the approximations ``refractory`` and ``floor``), and
  ``exact`` (LIF with tau_ref=0 and no floor, dt 0.1 ms: what NIR says
  exactly, except that snnTorch refuses ``v_leak`` so the bias enters
  through the synapse, the approximation ``bias``; it fades after the first
  second). The reader runs the neurons; the readout (decoders and lowpass
  filter, ``LI`` nodes that snnTorch does not read) is applied to its spikes
  as the exported graph says.

Run from the repository root (needs the nir and nir-test extras, and the dl
extra to train)::

    python benchmarks/nir_export.py                # about 6 minutes on 2 cores
    python benchmarks/nir_export.py --quick        # smoke run
    python benchmarks/nir_export.py --load l2mu_nir.npz   # skip training
"""

import argparse
import contextlib
import copy
import datetime
import io
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import nir  # noqa: E402
import numpy as np  # noqa: E402

from nengo_lmu.metrics import nrmse  # noqa: E402
from nengo_lmu.networks import L2MU, LegendreMemory  # noqa: E402
from nengo_lmu.nir import SNNTORCH_DT, from_nir, to_nir  # noqa: E402
from nengo_lmu.systems import legendre_readout  # noqa: E402
from nengo_lmu.tables import format_table  # noqa: E402

try:  # the applications moved under nengo_lmu.apps
    from nengo_lmu.apps.data import event_digits
    from nengo_lmu.apps.tasks import delay_input
except ImportError:  # pragma: no cover - before the move
    from nengo_lmu.data import event_digits
    from nengo_lmu.tasks import delay_input


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=3.0, help="delay task seconds")
    parser.add_argument("--epochs", type=int, default=5, help="L2MU training epochs")
    parser.add_argument("--memory-size", type=int, default=32, help="L2MU u neurons")
    parser.add_argument("--hidden-size", type=int, default=96, help="L2MU h neurons")
    parser.add_argument("--seed", type=int, default=0, help="weights, training, task")
    parser.add_argument("--load", default=None, help="a trained L2MU (.npz) to use")
    parser.add_argument("--save", default="l2mu_nir.npz", help="where the trained L2MU goes")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    return parser.parse_args(argv)


def reader_module(graph):
    """The independent reader: snnTorch's node mapping under nirtorch."""
    import nirtorch
    from snntorch import import_nir

    def node(n):
        return import_nir._nir_to_snntorch_module(n, init_hidden=True)

    types = (nir.LIF, nir.CubaLIF, nir.Linear, nir.Affine)
    # snnTorch prints every threshold rescaling it does: keep the table readable
    with contextlib.redirect_stdout(io.StringIO()):
        return nirtorch.nir_to_torch(copy.deepcopy(graph), {t: node for t in types})


def run_reader(module, x, repeat=1):
    import snntorch.utils
    import torch

    snntorch.utils.reset(module)
    xs = torch.tensor(np.repeat(x, repeat, axis=0), dtype=torch.float32)
    out, state = [], None
    with torch.no_grad():
        for row in xs:
            y, state = module(row[None], state)
            out.append(y[0].numpy().copy())
    return np.array(out)


def graph_facts(make):
    """``(graph, seconds, bytes, node types)`` of one export."""
    t0 = time.perf_counter()
    graph = make()
    seconds = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "g.nir")
        nir.write(path, graph)
        size = os.path.getsize(path)
    kinds = sorted({type(n).__name__ for n in graph.nodes.values()} - {"Input", "Output"})
    return graph, seconds, size, kinds


def l2mu_row(args, rows):
    import torch

    torch.set_num_threads(1)
    n_samples = 300 if args.quick else None
    data = event_digits(n_steps=40, n_samples=n_samples, split_seed=args.seed)
    if args.load:
        net = L2MU.load(args.load)
    else:
        from nengo_lmu.dl import train_spiking_classifier

        net = L2MU.from_preset(
            "braille7",
            16,
            10,
            memory_size=8 if args.quick else args.memory_size,
            hidden_size=16 if args.quick else args.hidden_size,
            reset="zero",
            seed=args.seed,
        )
        train_spiking_classifier(
            net,
            data,
            epochs=1 if args.quick else args.epochs,
            learning_rate=2e-3,
            seed=args.seed,
            verbose=0,
        )
        net.save(args.save)
    x, y = data["x_test"], data["y_test"].ravel()
    counts, _ = net.run_sequences(x)
    graph, seconds, size, kinds = graph_facts(
        lambda: to_nir(
            net,
            dt=SNNTORCH_DT,
            spike_area=SNNTORCH_DT,
            voltage_scale="snntorch",
            delays="cycle",
            approximate=("discrete",),
        )
    )
    module = reader_module(graph)
    back = from_nir(graph)
    current = [x[0]]

    def events(t):
        step = int(round(t / back.dt)) - 1
        return current[0][step] * SNNTORCH_DT / back.dt  # spikes of area spike_area

    with back:
        feed = nengo.Node(events, size_out=x.shape[2])
        nengo.Connection(feed, back.input, synapse=None)
        p_out = nengo.Probe(back.output)
    back_counts = []
    for xi in x:
        current[0] = xi
        with nengo.Simulator(back, dt=back.dt, progress_bar=False) as sim:
            sim.run_steps(len(xi))
        back_counts.append((sim.data[p_out] > 0).sum(axis=0))
    back = np.array(back_counts)
    reader = np.array([run_reader(module, xi).sum(axis=0) for xi in x])
    acc_n = np.mean(np.argmax(counts, 1) == y)
    acc_r = np.mean(np.argmax(reader, 1) == y)
    agree = np.mean(np.argmax(counts, 1) == np.argmax(reader, 1))
    rows.append(
        [
            f"L2MU ({net.memory_size}/{net.memory_size * net.order}/{net.hidden_size} "
            f"neurons, reset zero)",
            " ".join(kinds),
            f"{seconds:.2f}",
            f"{size / 1e3:.0f}",
            f"acc {acc_n:.3f}",
            f"acc {acc_r:.3f}",
            f"{acc_r / acc_n:.3f}",
            f"classes agree {agree:.3f}; counts equal {np.mean(np.all(reader == counts, 1)):.3f}; "
            f"from_nir in nengo: counts equal {np.mean(np.all(back == counts, 1)):.3f}",
            "none (per-step neurons, Euler at the reader's step)",
        ]
    )


def memory_row(args, rows, label, dt, neuron_type, ens_kwargs, approx):
    import torch

    torch.set_num_threads(1)
    duration = 1.5 if args.quick else args.duration
    n = 20 if args.quick else 166
    with nengo.Network(seed=args.seed) as net:
        stim = nengo.Node(delay_input(period=duration, seed=args.seed))
        kw = {} if neuron_type is None else dict(neuron_type=neuron_type, ens_kwargs=ens_kwargs)
        # tuned on the task's own signal class, as the demo's memory is
        kw["process"] = delay_input(period=duration, seed=args.seed + 1)
        mem = LegendreMemory(6, 0.1, n_neurons=n, dt=dt, synapse=0.1, seed=args.seed, **kw)
        nengo.Connection(stim, mem.input, synapse=None)
        p_u, p_m = nengo.Probe(stim), nengo.Probe(mem.output)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(duration)
    u, m_nengo = sim.data[p_u], sim.data[p_m]
    full, seconds, size, kinds = graph_facts(lambda: to_nir(mem, approximate=approx))
    g = to_nir(
        mem,
        voltage_scale="snntorch",
        spike_area=SNNTORCH_DT,
        bias="input",
        approximate=approx + ("bias",),
    )
    # the reader runs the neurons; LI (the readout's lowpass) it does not read
    keep = ("input", "neurons", "neurons.w_input", "neurons.w_neurons")
    nodes = {k: g.nodes[k] for k in keep}
    n_total = nodes["neurons"].tau_mem.size
    nodes["spikes"] = nir.Output(output_type={"output": np.array([n_total])})
    edges = [e for e in g.edges if e[0] in nodes and e[1] in nodes] + [("neurons", "spikes")]
    sub = int(round(dt / SNNTORCH_DT))
    spikes = run_reader(reader_module(nir.NIRGraph(nodes=nodes, edges=edges)), u, repeat=sub)
    # the readout, as the full graph says: LI(tau) of its Linear inputs, plus
    # the direct terms; spikes of one reader step (1e-4 s) have area 1
    fine = {"neurons": spikes / SNNTORCH_DT, "input": np.repeat(u, sub, axis=0)}
    F = full.nodes
    m_reader = 0
    for name, node in F.items():
        feeds = [a for a, b in full.edges if b == name and isinstance(F[a], nir.Linear)]
        if not feeds:
            continue
        total = sum(fine[[s for s, t in full.edges if t == a][0]] @ F[a].weight.T for a in feeds)
        if isinstance(node, nir.LI):
            total = nengo.Lowpass(float(node.tau[0])).filt(total, dt=SNNTORCH_DT, y0=0)
            if ("input", name) not in full.edges and (name, "output") in full.edges:
                m_reader = m_reader + total
        elif isinstance(node, nir.Output):
            m_reader = m_reader + total
    m_reader = m_reader[sub - 1 :: sub]
    # the graph read back into nengo (from_nir): what the approximations do
    # in nengo itself
    back = from_nir(full)
    with back:
        nengo.Connection(nengo.Node(nengo.processes.PresentInput(u, dt)), back.input, synapse=None)
        p_back = nengo.Probe(back.output)
    with nengo.Simulator(back, dt=dt, progress_bar=False) as sim:
        sim.run_steps(len(u))
    m_back = sim.data[p_back]
    r = legendre_readout(6, 1.0)
    steps, start = int(round(0.1 / dt)), int(round(1.0 / dt))
    target = np.concatenate([np.zeros(steps), u[:-steps, 0]])[start:]
    y_n, y_r = (m_nengo @ r)[start:], (m_reader @ r)[start:]
    e_n, e_r = nrmse(y_n, target), nrmse(y_r, target)
    e_b = nrmse((m_back @ r)[start:], target)
    rows.append(
        [
            f"memory {label} ({6 * n} LIF, dt {dt * 1e3:g} ms)",
            " ".join(kinds),
            f"{seconds:.2f}",
            f"{size / 1e3:.0f}",
            f"NRMSE {e_n:.3f}",
            f"NRMSE {e_r:.3f}",
            f"{e_r / e_n:.3f}",
            f"reader vs nengo NRMSE {nrmse(y_r, y_n):.3f}; from_nir in nengo: NRMSE {e_b:.3f}",
            ", ".join(approx + ("bias (reader graph)",)),
        ]
    )


def main(argv=None):
    args = parse_args(argv)
    rows = []
    memory_row(args, rows, "demo", 0.001, None, None, ("refractory", "floor"))
    exact = nengo.LIF(
        tau_ref=0, min_voltage=-np.inf, initial_state={"voltage": nengo.dists.Choice([0.0])}
    )
    rates = dict(max_rates=nengo.dists.Uniform(300, 500))
    memory_row(args, rows, "exact", 0.0001, exact, rates, ())
    l2mu_row(args, rows)
    print(
        f"NIR export, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"Python {platform.python_version()}, seed {args.seed}"
        + (" (quick)" if args.quick else "")
    )
    print(
        format_table(
            [
                "network",
                "NIR nodes",
                "export s",
                "file kB",
                "nengo",
                "reader",
                "reader/nengo",
                "agreement",
                "approximated",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
