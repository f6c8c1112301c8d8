"""`from_nir`: a NIR graph as a nengo network that runs in `nengo.Simulator`.

Each NIR node becomes nengo objects:

=========== ==============================================================
``Input``   a pass-through `nengo.Node` (``net.inputs[name]``)
``Output``  a pass-through `nengo.Node` (``net.outputs[name]``)
``Linear``  a pass-through node; each incoming edge a connection with the
            weight as transform (inputs sum, then the weight applies)
``Affine``  the same plus a constant node for the bias
``Scale``   the same with a diagonal transform
``LI``      a pass-through node fed through ``Lowpass(tau)`` (``r`` scales,
            ``v_leak`` enters through the same lowpass from rest)
``Delay``   ``k = delay / dt`` steps: ``k`` connections with ``synapse=0``
``LIF``     an ensemble of ``nengo.LIF(tau_ref=0, min_voltage=-inf)``
            (threshold, reset and ``r`` folded into gain and bias), or of
            `.DiscreteLIF` where the graph says its neurons are per step
``CubaLIF`` the same, every input through ``Lowpass(tau_syn)`` times
            ``w_in``
=========== ==============================================================

Nested graphs (snnTorch writes each ``RSynaptic`` / ``RLeaky`` as one) are
flattened. A cycle whose edges carry no synapse needs a step of delay in a
step simulator: the edges that close such cycles, found by a depth-first
walk from the inputs in edge order (what nirtorch does), or those the graph
names in its ``nengo_lmu.delayed_edges`` metadata, get ``synapse=0``.
Anything else (``IF``, ``CubaLI``, convolutions, per-neuron time constants
within one node, ``v_reset >= v_threshold``) is refused with a
`ValidationError` naming the node and the reason.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.discrete_lif import DiscreteLIF
from nengo_lmu.nir.conventions import (
    READ_TYPES,
    read_metadata,
    require_nir,
    tau_to_beta,
)
from nengo_lmu.validation import check_positive


class NIRNetwork(nengo.Network):
    """The nengo network made by `from_nir`.

    Attributes
    ----------
    inputs, outputs : dict of nengo.Node
        By the graph's ``Input`` / ``Output`` names; ``input`` and ``output``
        are the first of each.
    populations : dict of nengo.Ensemble
        The neuron nodes by name.
    """


def _flatten(graph, prefix=""):
    """Nodes and edges of ``graph`` with nested graphs inlined."""
    nir = require_nir()
    nodes, edges, inner = {}, [], {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, full + ".")
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise ValidationError(
                    f"nested graph {full!r} needs one Input and one Output, got "
                    f"{len(ins)} and {len(outs)}",
                    attr="graph",
                )
            nodes.update(sub_nodes)
            edges.extend(sub_edges)
            inner[name] = (full + "." + ins[0], full + "." + outs[0])
        else:
            nodes[full] = node
    for a, b in graph.edges:
        a = inner[a][1] if a in inner else a
        b = inner[b][0] if b in inner else b
        edges.append((prefix + a, prefix + b))
    return nodes, edges


def _back_edges(nodes, edges, starts):
    """Edges that close a cycle, by a depth-first walk from ``starts``."""
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    state, back = {}, set()
    for s in list(starts) + list(nodes):
        if s in state:
            continue
        stack = [(s, iter(succ.get(s, [])))]
        state[s] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ.get(nxt, []))))
    return back


def _uniform(node_name, field, value):
    value = np.unique(np.asarray(value, dtype=np.float64))
    if value.size != 1:
        raise ValidationError(
            f"node {node_name!r}: {field} differs between its neurons ({value.min():g} to "
            f"{value.max():g}); a nengo population has one",
            attr="graph",
        )
    return float(value[0])


def from_nir(graph, dt=None, spike_area=None, neurons=None, label=None):
    """Make a nengo network from a NIR graph.

    Parameters
    ----------
    graph : nir.NIRGraph or str or path
        The graph, or a file written by ``nir.write``.
    dt : float, optional
        The step the network will run at (default: the graph's
        ``nengo_lmu.dt`` metadata, else 0.001). Delays must be multiples.
    spike_area : float, optional
        Area of one spike in the graph's convention (default: the graph's
        metadata, else 1, NIR's impulse). Neurons emit spikes of this area
        and inputs that carry spikes should be fed ``area / dt`` per spike.
    neurons : "lif" or "discrete", optional
        Read ``LIF`` / ``CubaLIF`` as continuous-time ``nengo.LIF``, or as
        per-step `.DiscreteLIF` (``beta`` from ``tau`` by the graph's
        ``discrete`` rule). Default: ``"discrete"`` for graphs `to_nir` wrote
        from per-step networks, else ``"lif"``.
    label : str, optional

    Returns
    -------
    NIRNetwork
    """
    nir = require_nir()
    if not isinstance(graph, nir.NIRGraph):
        graph = nir.read(graph)
    meta = read_metadata(graph)
    dt = check_positive("dt", meta.get("dt", 0.001) if dt is None else dt)
    area = check_positive(
        "spike_area", meta.get("spike_area", 1.0) if spike_area is None else spike_area
    )
    per_step = meta.get("source") in ("L2MU", "RecurrentLIF")
    if neurons is None:
        neurons = "discrete" if per_step else "lif"
    if neurons not in ("lif", "discrete"):
        raise ValidationError(f"must be 'lif' or 'discrete', got {neurons!r}", attr="neurons")
    rule = meta.get("discrete", "euler")
    nodes, edges = _flatten(graph)
    for name, node in nodes.items():
        if type(node).__name__ not in READ_TYPES:
            raise ValidationError(
                f"node {name!r} is a {type(node).__name__}, which from_nir does not read "
                f"(it reads {', '.join(READ_TYPES)})",
                attr="graph",
            )
    starts = [n for n, v in nodes.items() if isinstance(v, nir.Input)]
    if "delayed_edges" in meta:
        delayed = {tuple(e.split(">")) for e in str(meta["delayed_edges"]).split(";") if e}
        delayed |= _back_edges_without_synapse(
            nodes, edges, starts, delayed, neurons == "discrete"
        )
    else:
        delayed = _back_edges_without_synapse(nodes, edges, starts, set(), neurons == "discrete")

    net = NIRNetwork(label=label)
    net.inputs, net.outputs, net.populations = {}, {}, {}
    into, out_of = {}, {}
    with net:
        for name, node in nodes.items():
            into[name], out_of[name] = _make(name, node, nodes, dt, area, neurons, rule, net)
        for a, b in edges:
            if a not in nodes or b not in nodes:
                raise ValidationError(f"edge {(a, b)} names a node not in the graph", attr="graph")
            post, transform, synapse = into[b]
            syn = 0 if (a, b) in delayed else synapse
            nengo.Connection(out_of[a], post, transform=transform, synapse=syn)
    net.input = next(iter(net.inputs.values()), None)
    net.output = next(iter(net.outputs.values()), None)
    net.dt = dt
    return net


def _back_edges_without_synapse(nodes, edges, starts, known, discrete):
    """Cycle-closing edges where the cycle has no synapse on it yet (a
    per-step synapse passes this step's input on: it does not count)."""
    nir = require_nir()
    kinds = (nir.LI, nir.Delay) if discrete else (nir.CubaLIF, nir.LI, nir.Delay)
    filtered = {n for n, v in nodes.items() if isinstance(v, kinds)}
    rest = [(a, b) for a, b in edges if (a, b) not in known and b not in filtered]
    back = set()
    for a, b in _back_edges(nodes, rest, starts):
        # Delay the spikes rather than the weights' output, so that an
        # Affine's bias is there from the first step (as in snnTorch's RLeaky)
        into_a = [e for e in edges if e[1] == a]
        if (
            isinstance(nodes[a], (nir.Linear, nir.Affine, nir.Scale))
            and len(into_a) == 1
            and isinstance(nodes[into_a[0][0]], (nir.LIF, nir.CubaLIF))
        ):
            back.add(into_a[0])
        else:
            back.add((a, b))
    return back


def _make(name, node, nodes, dt, area, neurons, rule, net):
    """``(into, out_of)``: where edges into the node connect (object,
    transform, synapse) and the object its output comes from."""
    nir = require_nir()
    if isinstance(node, nir.Input):
        size = int(np.prod(next(iter(node.input_type.values()))))
        obj = nengo.Node(size_in=size, label=name)
        net.inputs[name] = obj
        return (obj, 1.0, None), obj
    if isinstance(node, nir.Output):
        size = int(np.prod(next(iter(node.output_type.values()))))
        obj = nengo.Node(size_in=size, label=name)
        net.outputs[name] = obj
        return (obj, 1.0, None), obj
    if isinstance(node, (nir.Linear, nir.Affine)):
        w = np.asarray(node.weight, dtype=np.float64)
        if w.ndim != 2:
            raise ValidationError(
                f"node {name!r}: weight must be a matrix, got shape {w.shape}", attr="graph"
            )
        obj = nengo.Node(size_in=w.shape[0], label=name)
        if isinstance(node, nir.Affine):
            b = nengo.Node(np.asarray(node.bias, dtype=np.float64), label=name + ".bias")
            nengo.Connection(b, obj, synapse=None)
        return (obj, w, None), obj
    if isinstance(node, nir.Scale):
        s = np.asarray(node.scale, dtype=np.float64).ravel()
        obj = nengo.Node(size_in=s.size, label=name)
        return (obj, np.diag(s), None), obj
    if isinstance(node, nir.LI):
        tau = _uniform(name, "tau", node.tau)
        r = np.asarray(node.r, dtype=np.float64).ravel()
        v_leak = np.asarray(node.v_leak, dtype=np.float64).ravel()
        n = max(r.size, v_leak.size, np.size(node.tau))
        obj = nengo.Node(size_in=n, label=name)
        if np.any(v_leak):
            leak = nengo.Node(v_leak * np.ones(n), label=name + ".v_leak")
            nengo.Connection(leak, obj, synapse=nengo.Lowpass(tau))
        return (obj, np.diag(r * np.ones(n)), nengo.Lowpass(tau)), obj
    if isinstance(node, nir.Delay):
        d = _uniform(name, "delay", node.delay)
        k = int(round(d / dt))
        if k < 1 or not np.isclose(k * dt, d):
            raise ValidationError(
                f"node {name!r}: delay {d:g} s is not a positive multiple of dt={dt:g}",
                attr="graph",
            )
        n = np.size(node.delay)
        first = nengo.Node(size_in=n, label=name)
        last = first
        for i in range(k - 1):
            nxt = nengo.Node(size_in=n, label=f"{name}.{i + 1}")
            nengo.Connection(last, nxt, synapse=0)
            last = nxt
        return (first, 1.0, 0), last
    if isinstance(node, (nir.LIF, nir.CubaLIF)):
        return _neurons(name, node, dt, area, neurons, rule, net)
    raise ValidationError(  # pragma: no cover - checked in from_nir
        f"node {name!r} ({type(node).__name__}) is not read", attr="graph"
    )


def _neurons(name, node, dt, area, neurons, rule, net):
    nir = require_nir()
    cuba = isinstance(node, nir.CubaLIF)
    tau = _uniform(name, "tau_mem" if cuba else "tau", node.tau_mem if cuba else node.tau)
    v_th = np.asarray(node.v_threshold, dtype=np.float64).ravel()
    n = v_th.size
    r = np.asarray(node.r, dtype=np.float64).ravel() * np.ones(n)
    v_leak = np.asarray(node.v_leak, dtype=np.float64).ravel() * np.ones(n)
    v_reset = np.zeros(n) if node.v_reset is None else np.asarray(node.v_reset, dtype=np.float64)
    v_reset = v_reset.ravel() * np.ones(n)
    meta = {
        str(k).replace("nengo_lmu.", ""): v
        for k, v in (node.metadata or {}).items()
        if str(k).startswith("nengo_lmu.")
    }
    if np.any(v_reset >= v_th):
        raise ValidationError(f"node {name!r}: v_reset must lie below v_threshold", attr="graph")
    synapse = None
    w_in = np.ones(n)
    if cuba:
        tau_syn = _uniform(name, "tau_syn", node.tau_syn)
        w_in = np.asarray(node.w_in, dtype=np.float64).ravel() * np.ones(n)
        if neurons == "discrete":
            # per step: I[t] = alpha I[t-1] + (dt / tau_syn) w_in x[t]
            alpha = float(tau_to_beta(tau_syn, dt, rule))
            synapse = nengo.LinearFilter([1.0, 0.0], [1.0, -alpha], analog=False)
            w_in = w_in * dt / tau_syn
        else:
            synapse = nengo.Lowpass(tau_syn)
    if neurons == "discrete":
        if np.any(v_reset != 0):
            raise ValidationError(
                f"node {name!r}: per-step neurons reset to 0; got v_reset != 0", attr="graph"
            )
        threshold = _uniform(name, "v_threshold", v_th)
        reset = meta.get("reset", "zero")
        reset = reset.decode() if isinstance(reset, bytes) else str(reset)
        min_voltage = float(meta.get("min_voltage", -np.inf))
        ntype = DiscreteLIF(
            float(tau_to_beta(tau, dt, rule)),
            threshold,
            amplitude=area,
            reset=reset,
            min_voltage=min_voltage,
            learnable=False,
        )
        gain = r * dt / tau * w_in
        bias = v_leak * dt / tau
    else:
        # w = (v - v_reset) / (v_th - v_reset): threshold 1, reset 0
        span = v_th - v_reset
        ntype = nengo.LIF(
            tau_rc=tau,
            tau_ref=0.0,
            min_voltage=-np.inf,
            amplitude=area,
            initial_state={"voltage": nengo.dists.Choice([0.0])},
        )
        gain = r * w_in / span
        bias = (v_leak - v_reset) / span
    ens = nengo.Ensemble(
        n,
        1,
        neuron_type=ntype,
        gain=np.ones(n),
        bias=bias,
        encoders=np.ones((n, 1)),
        label=name,
    )
    net.populations[name] = ens
    return (ens.neurons, np.diag(gain), synapse), ens.neurons
