"""`to_nir`: the package's spiking networks as NIR graphs.

The exporter builds the network with nengo's reference builder (so that the
decoders, gains and biases are the ones nengo runs), then walks it:

1. every connection becomes one matrix from its source's output (an input
   node's value, or a population's spikes) to its target's input, with
   nengo's decoders, transform, slices and encoders folded in;
2. pass-through nodes (no function) are folded away: the matrices along a
   path multiply, and a path may hold one synapse at most;
3. populations with the same neuron model, the same synapses on their
   inputs and no output role are merged into one NIR node (the memory's six
   populations become one ``CubaLIF`` of 996 neurons with one recurrent
   ``Linear``: the form snnTorch's importer recognises as ``RSynaptic``);
4. each population becomes ``CubaLIF`` (all its inputs through one lowpass
   synapse), ``LIF`` (none), or ``LI`` nodes before a ``LIF`` (several
   synapses); one-step delays become ``Delay`` nodes (or cycles); outputs
   read through a lowpass synapse get an ``LI`` node.

The recurrent weights are written in full (neuron to neuron), not as two
``Linear`` nodes through a low-dimensional node: both are exact (a chain of
``Linear`` nodes is one matrix product), but only the full matrix is the
``LIF <-> Linear`` loop that the readers (snnTorch, nirtorch, hardware
mappers) recognise, and a hardware mapper would multiply the factors out
anyway. It costs ``N**2`` numbers instead of ``2 N d`` (996 neurons: 992,016
against 11,952).
"""

import re

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.discrete_lif import DiscreteLIF
from nengo_lmu.networks import LinearSystemNetwork
from nengo_lmu.networks.spiking_classifier import SpikingClassifier
from nengo_lmu.nir.conventions import (
    META_PREFIX,
    Conventions,
    beta_to_tau,
    require_nir,
)
from nengo_lmu.validation import check_choice

BIAS_STYLES = ("leak", "input")


def to_nir(
    obj,
    dt=None,
    *,
    spike_area=1.0,
    discrete="euler",
    voltage_scale=1.0,
    delays="node",
    bias="leak",
    approximate=(),
):
    """Write a spiking network of the package as a NIR graph.

    Parameters
    ----------
    obj : LinearSystemNetwork, LegendreMemory, L2MU or RecurrentLIF
        The network, in its spiking neural form. Other objects (the exact
        form, rate neurons, the LMUFormer's streaming network) are refused
        with a `ValidationError` naming what does not map and why.
    dt : float, optional
        Seconds per step (default: the network's ``dt``). For the per-step
        neurons of `.L2MU` and `.RecurrentLIF` it is the duration one step
        has in the graph (``1e-4`` for snnTorch's importer); a network of
        nengo LIF neurons was built for its own ``dt`` and takes only that.
    spike_area : float
        Area of one spike as the reader delivers it (1: NIR's impulse;
        ``dt`` for readers that pass a spike as the number 1 per step, such
        as snnTorch and Norse). Weights leaving spiking nodes are divided by
        it.
    discrete : "euler" or "exp"
        How a per-step decay ``beta`` becomes ``tau``: ``dt / (1 - beta)``
        (default: exact in readers that take Euler steps of ``dt``, which is
        what snnTorch, Norse and Spyx do) or ``-dt / log(beta)`` (exact
        decay for readers that integrate the leak exactly).
    voltage_scale : float or "snntorch"
        Multiplies every neuron's ``r``, ``v_leak``, ``v_threshold``,
        ``v_reset`` (the dynamics are unchanged). ``"snntorch"``: ``tau /
        1e-4``, which snnTorch's importer asserts for ``CubaLIF``.
    delays : "node" or "cycle"
        One-step delays (``synapse=0`` connections) as ``nir.Delay`` nodes
        (default) or as plain edges of the cycle they close, for readers
        without ``Delay`` that give every cycle one step (snnTorch).
    bias : "leak" or "input"
        A population's bias current as ``v_leak`` (default, exact), or as
        the bias of the ``Affine`` on its input path (for readers that refuse
        ``v_leak``, such as snnTorch): with a synapse this is the
        approximation ``"bias"``.
    approximate : tuple of str
        The approximations allowed (`.conventions.APPROXIMATIONS`); any
        other inexact part is refused.

    Returns
    -------
    nir.NIRGraph
        With ``Input`` node ``"input"`` and ``Output`` node ``"output"``
        (the memory's ``output``; the classifiers' ``out`` spikes).
    """
    nir = require_nir()
    if isinstance(obj, LinearSystemNetwork):
        if obj.neurons_per_ensemble is None:
            raise ValidationError(
                f"{obj} is the exact form (nodes, no neurons): NIR describes "
                f"neurons; make it with n_neurons=... to export it",
                attr="obj",
                obj=obj,
            )
        inputs = {"input": obj.input}
        outputs = {"output": obj.output}
        kind = "values"
    elif isinstance(obj, SpikingClassifier):
        inputs = {"input": obj.input}
        outputs = {"output": obj.out}
        kind = "spikes"
    else:
        raise ValidationError(
            f"to_nir writes LinearSystemNetwork / LegendreMemory (spiking), L2MU "
            f"and RecurrentLIF; got {type(obj).__name__} (an LMUFormer streaming "
            f"network does not map: its layer norms, attention and node functions "
            f"have no NIR primitive)",
            attr="obj",
        )
    model_dt = float(obj.dt)
    conv = Conventions(
        dt=model_dt if dt is None else dt,
        spike_area=spike_area,
        discrete=discrete,
        voltage_scale=voltage_scale,
        delays=delays,
        approximate=approximate,
    )
    check_choice("bias", bias, BIAS_STYLES)
    walker = _Walker(obj, model_dt, conv, bias, inputs, outputs, kind)
    nodes, edges, meta = walker.run()
    meta.update(conv.metadata())
    meta[META_PREFIX + "source"] = type(obj).__name__
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def _name(obj, taken):
    label = obj if isinstance(obj, str) else getattr(obj, "label", None)
    base = re.sub(r"[^A-Za-z0-9_]+", "_", str(label or "pop")).strip("_")
    base = base or "pop"
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


def _synapse_key(conn):
    """``None`` (same step), ``0.0`` (one step) or a lowpass ``tau``."""
    syn = conn.synapse
    if syn is None:
        return None
    if type(syn) is nengo.Lowpass:
        return float(syn.tau)
    raise ValidationError(
        f"{conn}: synapse {syn} has no NIR form here (None, 0 and Lowpass map)",
        attr="synapse",
        obj=conn,
    )


def _dense(conn, weights):
    """The built weights of a non-decoded connection as a full matrix
    (post slice rows by pre slice columns)."""
    tr = conn.transform
    if isinstance(tr, nengo.transforms.Sparse):
        init = tr.init
        if hasattr(init, "toarray"):
            return np.asarray(init.toarray(), dtype=np.float64)
        full = np.zeros(tr.shape)
        full[init.indices[:, 0], init.indices[:, 1]] = init.data
        return full
    if not isinstance(tr, (nengo.transforms.Dense, nengo.transforms.NoTransform)):
        raise ValidationError(
            f"{conn}: transform {type(tr).__name__} has no NIR form here",
            attr="transform",
            obj=conn,
        )
    w = np.asarray(weights, dtype=np.float64)
    n = conn.size_mid
    if w.ndim == 0:
        return w * np.eye(n)
    if w.ndim == 1:
        return np.diag(w)
    return w


def _ordered(nodes, edges, delayed):
    """``nodes`` in an order that steps the graph right: each node after
    the nodes it takes this step's output from, and the weights of a delayed
    edge after the node they feed (readers that go through the nodes in
    order, such as nirtorch, then give exactly those edges the step).
    Edges into ``Delay`` nodes do not order."""
    nir = require_nir()
    delayed = set(delayed)
    after = {n: set() for n in nodes}  # node -> nodes that must come first
    for a, b in edges:
        if (a, b) in delayed:
            after[a].add(b)
        elif not isinstance(nodes[b], nir.Delay):
            after[b].add(a)
    order, done = [], set()
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if after[n] <= done]
        if not ready:  # a loop without delay: keep the given order
            ready = pending[:1]
        for n in ready:
            order.append(n)
            done.add(n)
        pending = [n for n in pending if n not in done]
    return {n: nodes[n] for n in order}


class _Walker:
    """One export: the matrices, the merged populations, the NIR nodes."""

    def __init__(self, net, model_dt, conv, bias, inputs, outputs, kind):
        self.net, self.conv, self.bias = net, conv, bias
        self.inputs, self.outputs, self.kind = inputs, outputs, kind
        with nengo.Simulator(net, dt=model_dt, progress_bar=False, optimize=False) as sim:
            self.model = sim.model
        self.model_dt = model_dt

    # --- step 1 and 2: connection matrices, pass-through nodes folded ---
    def _size_out(self, obj):
        if isinstance(obj, nengo.Ensemble):
            return obj.n_neurons
        if isinstance(obj, nengo.ensemble.Neurons):
            return obj.size_out
        return obj.size_out

    def _source(self, obj):
        return obj.ensemble if isinstance(obj, nengo.ensemble.Neurons) else obj

    def _matrix(self, conn):
        """``(source, M)``: the contribution ``M @ source_output`` to the
        full input of ``conn.post_obj`` (ensembles: neuron currents)."""
        built = self.model.params[conn]
        pre = conn.pre_obj
        if isinstance(pre, nengo.Node) and conn.function is not None:
            raise ValidationError(
                f"{conn}: a function on a node's output has no NIR form",
                attr="function",
                obj=conn,
            )
        if isinstance(pre, nengo.Ensemble):
            m = np.asarray(built.weights, dtype=np.float64)
            if m.ndim != 2 or m.shape[1] != pre.n_neurons:
                raise ValidationError(
                    f"{conn}: weight solvers are not mapped", attr="solver", obj=conn
                )
            full_in = m
        else:
            m = _dense(conn, built.weights)
            full_in = np.zeros((m.shape[0], self._size_out(pre)))
            full_in[:, conn.pre_slice] = m
        post = conn.post_obj
        if isinstance(post, nengo.Ensemble):
            rows = np.zeros((post.dimensions, full_in.shape[1]))
            rows[conn.post_slice] = full_in
            enc = self.model.params[post].scaled_encoders
            full = enc @ rows
        else:
            size = post.size_in
            full = np.zeros((size, full_in.shape[1]))
            full[conn.post_slice] = full_in
        return self._source(pre), full

    def _terms(self, target, seen=()):
        """``{(source, synapse key): matrix}`` of everything feeding
        ``target`` (an ensemble's neurons or a node), pass-through nodes
        folded."""
        terms = {}
        for conn in self.into.get(target, []):
            key = _synapse_key(conn)
            src, m = self._matrix(conn)
            if isinstance(src, nengo.Node) and src not in self.input_nodes:
                if src.output is not None:
                    raise ValidationError(
                        f"{src}: a node with its own output is not an input of the "
                        f"network and has no NIR form",
                        attr="node",
                        obj=src,
                    )
                if src in seen:
                    raise ValidationError(
                        f"{src}: a loop of nodes without neurons has no NIR form here",
                        attr="node",
                        obj=src,
                    )
                for (s2, k2), m2 in self._terms(src, seen + (src,)).items():
                    if key is not None and k2 is not None:
                        raise ValidationError(
                            f"{conn}: two synapses in series (through {src}) are not mapped",
                            attr="synapse",
                            obj=conn,
                        )
                    k = key if k2 is None else k2
                    terms[(s2, k)] = terms.get((s2, k), 0) + m @ m2
            else:
                terms[(src, key)] = terms.get((src, key), 0) + m
        return terms

    # --- step 3 and 4 ---
    def run(self):
        nir = require_nir()
        net = self.net
        self.input_nodes = {v: k for k, v in self.inputs.items()}
        self.into = {}
        for conn in net.all_connections:
            post = conn.post_obj
            post = post.ensemble if isinstance(post, nengo.ensemble.Neurons) else post
            self.into.setdefault(post, []).append(conn)
        out_ens = {o for o in self.outputs.values() if isinstance(o, nengo.Ensemble)}
        out_terms = {
            name: self._terms(o) for name, o in self.outputs.items() if isinstance(o, nengo.Node)
        }
        # only populations that reach an output take part
        needed, todo = set(out_ens), [s for t in out_terms.values() for s, _ in t]
        ens_terms = {}
        while todo:
            s = todo.pop()
            if isinstance(s, nengo.Ensemble) and s not in ens_terms:
                needed.add(s)
                ens_terms[s] = self._terms(s)
                todo.extend(k for k, _ in ens_terms[s])
        for s in list(needed):
            if s not in ens_terms:
                ens_terms[s] = self._terms(s)
                todo = [k for k, _ in ens_terms[s]]
                while todo:
                    t = todo.pop()
                    if isinstance(t, nengo.Ensemble) and t not in ens_terms:
                        needed.add(t)
                        ens_terms[t] = self._terms(t)
                        todo.extend(k for k, _ in ens_terms[t])
        ensembles = [e for e in net.all_ensembles if e in ens_terms]
        for ens in ensembles:
            if ens.noise is not None:
                raise ValidationError(
                    f"{ens}: neuron noise has no NIR form", attr="noise", obj=ens
                )
        # merge populations of one model with the same input synapses
        groups = {}
        for ens in ensembles:
            syn = tuple(sorted({k for (_, k) in ens_terms[ens]}, key=repr))
            key = (repr(ens.neuron_type), syn) if ens not in out_ens else (id(ens),)
            groups.setdefault(key, []).append(ens)
        taken = {"input", "output"}
        self.group_of, self.offset, group_list = {}, {}, []
        for members in groups.values():
            name = _name(members[0] if len(members) == 1 else "neurons", taken)
            start = 0
            for ens in members:
                self.group_of[ens] = name
                self.offset[ens] = start
                start += ens.n_neurons
            group_list.append((name, members, start))
        self.size = {name: n for name, _, n in group_list}
        nodes, edges, meta = {}, [], {}
        for name, node in self.inputs.items():
            nodes[name] = nir.Input(input_type={"input": np.array([node.size_out])})
        self.nodes, self.edges, self.meta = nodes, edges, meta
        self.delayed = []
        self.delay_nodes = {}
        self.li = {}
        for name, members, n in group_list:
            self._population(name, members, n, ens_terms)
        for name, terms in out_terms.items():
            size = self.outputs[name].size_out
            self._sink(name, size, terms, target_kind="output")
            nodes[name] = nir.Output(output_type={"output": np.array([size])})
        for name, ens in self.outputs.items():
            if isinstance(ens, nengo.Ensemble):
                nodes[name] = nir.Output(output_type={"output": np.array([ens.n_neurons])})
                edges.append((self.group_of[ens], name))
        if self.delayed:
            meta[META_PREFIX + "delayed_edges"] = ";".join(f"{a}>{b}" for a, b in self.delayed)
        self._check_cycles()
        return _ordered(nodes, edges, self.delayed), edges, meta

    def _source_node(self, src):
        """NIR name, the scale of its output, and whether it spikes."""
        if src in self.input_nodes:
            return self.input_nodes[src], self.kind == "spikes"
        return self.group_of[src], True

    def _full(self, target_members, terms_of, target_n):
        """``{(source group or input name, synapse): (matrix, source object)}``
        over the merged target."""
        out = {}
        for ens in target_members:
            rows = slice(self.offset[ens], self.offset[ens] + ens.n_neurons)
            for (src, key), m in terms_of[ens].items():
                name, _ = self._source_node(src)
                ncols = self.size[name] if src not in self.input_nodes else src.size_out
                cols = (
                    slice(None)
                    if src in self.input_nodes
                    else slice(self.offset[src], self.offset[src] + src.n_neurons)
                )
                if (name, key) not in out:
                    out[(name, key)] = [np.zeros((target_n, ncols)), src]
                out[(name, key)][0][rows, cols] += m
        return out

    def _population(self, name, members, n, ens_terms):
        nir = require_nir()
        conv = self.conv
        ntype = members[0].neuron_type
        bias = np.concatenate([self.model.params[e].bias for e in members])
        discrete = isinstance(ntype, DiscreteLIF)
        full = self._full(members, ens_terms, n)
        if discrete:
            self._check_discrete(members[0], ntype)
            tau = beta_to_tau(ntype.beta, conv.dt, conv.discrete, obj=members[0])
            k = conv.scale_for(tau, r_unit=tau)
            # v += (r / tau) * (weight * area) per spike = k * J (see conventions)
            node_meta = {META_PREFIX + "reset": ntype.reset}
            if np.isfinite(ntype.min_voltage):
                node_meta[META_PREFIX + "min_voltage"] = float(ntype.min_voltage)
            v_leak = k * bias * tau / conv.dt
            if self.bias == "input":
                raise ValidationError(
                    f"{members[0]}: bias='input' is for populations behind a synapse",
                    attr="bias",
                )
            self.nodes[name] = nir.LIF(
                tau=np.full(n, tau),
                r=np.full(n, k * tau),
                v_leak=v_leak,
                v_threshold=np.full(n, k * ntype.threshold),
                v_reset=np.zeros(n),
                metadata=node_meta,
            )
            for (src, key), (m, src_obj) in full.items():
                if key not in (None, 0.0):
                    raise ValidationError(
                        f"{members[0]}: per-step neurons take synapse None or 0 only, "
                        f"got Lowpass({key})",
                        attr="synapse",
                        obj=members[0],
                    )
                if src_obj in self.input_nodes:
                    scale = 1.0 / conv.spike_area if self.kind == "spikes" else 1.0 / conv.dt
                else:
                    amp = src_obj.neuron_type.amplitude
                    # a spike adds weight * amp / model_dt to J
                    scale = amp / (self.model_dt * conv.spike_area)
                self._edge(src, name, m * scale, key)
            return
        if type(ntype) is not nengo.LIF:
            raise ValidationError(
                f"{members[0]}: neuron type {ntype} has no NIR form here (nengo.LIF "
                f"and DiscreteLIF map)",
                attr="neuron_type",
                obj=members[0],
            )
        if ntype.tau_ref > 0:
            self.conv.refuse_unless(
                "refractory", members[0], f"its refractory period tau_ref={ntype.tau_ref}"
            )
        if np.isfinite(ntype.min_voltage):
            self.conv.refuse_unless(
                "floor", members[0], f"its voltage floor min_voltage={ntype.min_voltage}"
            )
        tau = float(ntype.tau_rc)
        k = conv.scale_for(tau)
        keys = {key for (_, key) in full}
        lowpass = [key for key in keys if key not in (None, 0.0)]
        if len(keys) == 1 and len(lowpass) == 1:
            tau_syn = lowpass[0]
            v_leak = k * bias
            bias_input = None
            if self.bias == "input":
                self.conv.refuse_unless(
                    "bias", members[0], "its bias would pass through its synapse"
                )
                v_leak = np.zeros(n)
                bias_input = bias
            self.nodes[name] = nir.CubaLIF(
                tau_syn=np.full(n, tau_syn),
                tau_mem=np.full(n, tau),
                r=np.full(n, k),
                v_leak=v_leak,
                v_threshold=np.full(n, k),
                v_reset=np.zeros(n),
                w_in=np.ones(n),
            )
            srcs = sorted(full, key=lambda sk: sk[0] not in self.inputs)
            for src, key in srcs:
                m, src_obj = full[(src, key)]
                scale = 1.0 if src_obj in self.input_nodes else ntype.amplitude / conv.spike_area
                b = None
                if bias_input is not None and src_obj in self.input_nodes:
                    b, bias_input = bias_input, None
                self._edge(src, name, m * scale, None, bias=b)
            if bias_input is not None:
                raise ValidationError(
                    f"{members[0]}: bias='input' needs an input edge to carry the bias",
                    attr="bias",
                )
            return
        if self.bias == "input":
            raise ValidationError(
                f"{members[0]}: bias='input' needs one lowpass synapse on every input",
                attr="bias",
            )
        self.nodes[name] = nir.LIF(
            tau=np.full(n, tau),
            r=np.full(n, k),
            v_leak=k * bias,
            v_threshold=np.full(n, k),
            v_reset=np.zeros(n),
        )
        self._sink(name, n, {None: None}, target_kind="lif", full=full, amp=ntype.amplitude)

    def _check_discrete(self, ens, ntype):
        if ntype.reset == "subtract":
            self.conv.refuse_unless(
                "reset", ens, "DiscreteLIF subtracts the threshold after a spike"
            )
        if np.isfinite(ntype.min_voltage):
            self.conv.refuse_unless(
                "clip", ens, f"DiscreteLIF clips its voltage at {ntype.min_voltage}"
            )
        self.conv.refuse_unless(
            "discrete", ens, "its neurons are defined per step, NIR's in continuous time"
        )

    def _sink(self, name, size, terms, target_kind, full=None, amp=1.0):
        """Edges into an output or a multi-synapse LIF: ``LI`` per lowpass
        synapse, ``Delay`` for one step, direct for none."""
        nir = require_nir()
        if full is None:
            full = {}
            for (src, key), m in terms.items():
                sname, _ = self._source_node(src)
                if src in self.input_nodes:
                    full[(sname, key)] = [m, src]
                else:
                    cols = np.zeros((size, self.size[sname]))
                    cols[:, self.offset[src] : self.offset[src] + src.n_neurons] = m
                    if (sname, key) in full:
                        full[(sname, key)][0] += cols
                    else:
                        full[(sname, key)] = [cols, src]
        for (src, key), (m, src_obj) in full.items():
            if src_obj in self.input_nodes:
                scale = 1.0
            else:
                scale = src_obj.neuron_type.amplitude / self.conv.spike_area
            if key is None or key == 0.0:
                self._edge(src, name, m * scale, key)
                continue
            li = self.li.get((name, key))
            if li is None:
                li = self.li[(name, key)] = f"{name}.synapse_{len(self.li)}"
                self.nodes[li] = nir.LI(
                    tau=np.full(size, key), r=np.ones(size), v_leak=np.zeros(size)
                )
                self.edges.append((li, name))
            self._edge(src, li, m * scale, None)

    def _edge(self, src, dst, m, key, bias=None):
        """``src -> Linear/Affine -> dst``, with a one-step delay for
        ``key == 0``."""
        nir = require_nir()
        lin = f"{dst}.w_{src}"
        i = 1
        while lin in self.nodes:
            i += 1
            lin = f"{dst}.w_{src}_{i}"
        if bias is None:
            self.nodes[lin] = nir.Linear(weight=m)
        else:
            self.nodes[lin] = nir.Affine(weight=m, bias=np.asarray(bias, dtype=np.float64))
        if key == 0.0 and self.conv.delays == "node":
            dname = f"{src}.delay"
            if dname not in self.nodes:
                size = m.shape[1]
                self.nodes[dname] = nir.Delay(delay=np.full(size, self.conv.dt))
                self.edges.append((src, dname))
            self.edges.append((dname, lin))
        else:
            self.edges.append((src, lin))
            if key == 0.0:
                self.delayed.append((lin, dst))
        self.edges.append((lin, dst))

    def _check_cycles(self):
        """With ``delays="cycle"`` every delayed edge must close a cycle."""
        succ = {}
        for a, b in self.edges:
            succ.setdefault(a, []).append(b)

        def reaches(a, b):
            seen, todo = set(), [a]
            while todo:
                x = todo.pop()
                if x == b:
                    return True
                if x not in seen:
                    seen.add(x)
                    todo.extend(succ.get(x, []))
            return False

        for lin, dst in self.delayed:
            if not reaches(dst, lin):
                raise ValidationError(
                    f"the one-step delay into {dst!r} closes no cycle: "
                    f"delays='cycle' cannot express it (use delays='node')",
                    attr="delays",
                )
