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
  0.1 s, 6 x 166 = 996 LIF, synapse 0.1 s, 10 Hz white noise of rms 0.3,
  tuned on the task's signal class; seeds 0, 1, 2): NRMSE of the decoded
  delayed signal against the truly delayed input after the first second, in
  nengo and in the reader, and the NRMSE of the reader's signal against
  nengo's. Two memories: ``demo`` (the memory's default neurons, 1 ms
  refractory period and nengo's voltage floor at 0, dt 1 ms: exported with
  the approximations ``refractory`` and ``floor``; the reader takes ten
  steps per nengo step), and ``exact`` (`nengo_lmu.nir.exact_memory_options`
  at dt 0.1 ms: what NIR says exactly, except that snnTorch refuses
  ``v_leak`` so the bias enters through the synapse, the approximation
  ``bias``, which fades within the first second). The reader runs the
  neurons; the readout (decoders and lowpass filter, ``LI`` nodes that
  snnTorch does not read) is applied to its spikes as the exported graph
  says (`nengo_lmu.nir.readers`). The graph read back into nengo
  (`from_nir`) runs too, on the first seed: the same network for ``exact``,
  the approximations' effect in nengo for ``demo``.

Run from the repository root (needs the nir and nir-test extras, and the dl
extra to train)::

    python benchmarks/nir_export.py                # about 30 minutes on 2 cores
    python benchmarks/nir_export.py --quick        # smoke run
    python benchmarks/nir_export.py --load l2mu_nir.npz   # skip training
"""

import argparse
import datetime
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nengo  # noqa: E402
import nir  # noqa: E402
import numpy as np  # noqa: E402

from nengo_lmu.apps.data import event_digits  # noqa: E402
from nengo_lmu.apps.tasks import delay_input  # noqa: E402
from nengo_lmu.metrics import nrmse  # noqa: E402
from nengo_lmu.networks import L2MU, LegendreMemory  # noqa: E402
from nengo_lmu.nir import SNNTORCH_DT, exact_memory_options, from_nir, readers, to_nir  # noqa: E402
from nengo_lmu.nir.recipes import EXACT_MEMORY_LAG  # noqa: E402
from nengo_lmu.systems import legendre_readout  # noqa: E402
from nengo_lmu.tables import format_table  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=4.0, help="delay task seconds")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="delay task seeds")
    parser.add_argument("--no-l2mu", action="store_true", help="only the memories")
    parser.add_argument("--epochs", type=int, default=5, help="L2MU training epochs")
    parser.add_argument("--memory-size", type=int, default=32, help="L2MU u neurons")
    parser.add_argument("--hidden-size", type=int, default=96, help="L2MU h neurons")
    parser.add_argument("--seed", type=int, default=0, help="weights, training, task")
    parser.add_argument("--load", default=None, help="a trained L2MU (.npz) to use")
    parser.add_argument("--save", default="l2mu_nir.npz", help="where the trained L2MU goes")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    return parser.parse_args(argv)


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
    graph, seconds, size, kinds = graph_facts(lambda: to_nir(net, **readers.snntorch_options(net)))
    module = readers.snntorch_module(graph)
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
    reader = np.array([readers.run_module(module, xi).sum(axis=0) for xi in x])
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
            f"{acc_r - acc_n:+.3f}",
            f"classes agree {agree:.3f}; counts equal {np.mean(np.all(reader == counts, 1)):.3f}; "
            f"from_nir in nengo: counts equal {np.mean(np.all(back == counts, 1)):.3f}",
            "none (per-step neurons, Euler at the reader's step)",
        ]
    )


def memory_run(args, dt, options, seed, lag=0.0):
    """The memory on the delay task in nengo: (memory, input, output); a
    ``lag`` is taken out of its window (`exact_memory`)."""
    duration = 1.5 if args.quick else args.duration
    n = 20 if args.quick else 166
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(delay_input(period=duration, seed=seed))
        # tuned on the task's own signal class, as the demo's memory is
        process = delay_input(period=duration, seed=seed + 1)
        mem = LegendreMemory(
            6, 0.1 - lag, n_neurons=n, dt=dt, synapse=0.1, process=process, seed=seed, **options
        )
        nengo.Connection(stim, mem.input, synapse=None)
        p_u, p_m = nengo.Probe(stim), nengo.Probe(mem.output)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(duration)
    return mem, sim.data[p_u], sim.data[p_m]


def reader_run(mem, full, u, dt, approx):
    """The memory's output computed from the reader's spikes (ten reader
    steps of 1e-4 s per nengo step of 1 ms)."""
    import torch

    torch.set_num_threads(1)
    options = readers.snntorch_options(mem)
    options["approximate"] = approx + options["approximate"]
    part = readers.memory_reader_graph(to_nir(mem, **options))
    sub = int(round(dt / SNNTORCH_DT))
    spikes = readers.run_module(readers.snntorch_module(part), u, repeat=sub)
    values = {"neurons": spikes / SNNTORCH_DT, "input": np.repeat(u, sub, axis=0)}
    return readers.apply_readout(full, values, SNNTORCH_DT)[sub - 1 :: sub]


def back_run(full, u, dt):
    """The graph read back into nengo (`from_nir`), on the same input."""
    back = from_nir(full)
    with back:
        nengo.Connection(nengo.Node(nengo.processes.PresentInput(u, dt)), back.input, synapse=None)
        p_back = nengo.Probe(back.output)
    with nengo.Simulator(back, dt=dt, progress_bar=False) as sim:
        sim.run_steps(len(u))
    return sim.data[p_back]


def memory_rows(args, rows, label, dt, options, approx, lag=0.0):
    r = legendre_readout(6, 1.0)
    steps, start = int(round(0.1 / dt)), int(round(1.0 / dt))
    scores = []
    for i, seed in enumerate(args.seeds):
        mem, u, m_nengo = memory_run(args, dt, options, seed, lag)
        full, seconds, size, kinds = graph_facts(lambda m=mem: to_nir(m, approximate=approx))
        m_reader = reader_run(mem, full, u, dt, approx)
        target = np.concatenate([np.zeros(steps), u[:-steps, 0]])[start:]
        y_n, y_r = (m_nengo @ r)[start:], (m_reader @ r)[start:]
        e_n, e_r, e_nr = nrmse(y_n, target), nrmse(y_r, target), nrmse(y_r, y_n)
        back = "-"
        if i == 0:
            back = f"{nrmse((back_run(full, u, dt) @ r)[start:], target):.3f}"
        scores.append((e_n, e_r, e_nr))
        rows.append(
            [
                f"memory {label} ({6 * mem.neurons_per_ensemble} "
                f"LIF, dt {dt * 1e3:g} ms, seed {seed})",
                " ".join(kinds),
                f"{seconds:.2f}",
                f"{size / 1e3:.0f}",
                f"NRMSE {e_n:.4f}",
                f"NRMSE {e_r:.4f}",
                f"{e_r - e_n:+.4f}",
                f"reader vs nengo NRMSE {e_nr:.4f}; from_nir in nengo: NRMSE {back}",
                ", ".join(approx + ("bias (reader graph)",)),
            ]
        )
    mean = np.mean(scores, axis=0)
    rows.append(
        [
            f"memory {label}: mean of seeds {' '.join(map(str, args.seeds))}",
            "",
            "",
            "",
            f"NRMSE {mean[0]:.4f}",
            f"NRMSE {mean[1]:.4f}",
            f"{mean[1] - mean[0]:+.4f}",
            f"reader vs nengo NRMSE {mean[2]:.4f}",
            "",
        ]
    )


def main(argv=None):
    args = parse_args(argv)
    rows = []
    memory_rows(args, rows, "demo", 0.001, {}, ("refractory", "floor"))
    memory_rows(args, rows, "exact", 0.0001, exact_memory_options(), ())
    lag = EXACT_MEMORY_LAG
    memory_rows(args, rows, "exact, lag out", 0.0001, exact_memory_options(), (), lag)
    if not args.no_l2mu:
        l2mu_row(args, rows)
    print(
        f"NIR export, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"Python {platform.python_version()}, L2MU seed {args.seed}, delay seeds "
        f"{' '.join(map(str, args.seeds))}, {1.5 if args.quick else args.duration:g} s"
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
                "reader - nengo",
                "agreement",
                "approximated",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
