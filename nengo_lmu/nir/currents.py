"""The input currents of a built nengo network, as matrices (export steps 1
and 2).

Every connection becomes one matrix from its source's output (an input
node's value, or a population's spikes) to its target's input, with
nengo's decoders, transform, slices and encoders folded in. Pass-through
nodes (no function) are folded away: the matrices along a path multiply,
and a path may hold one synapse at most.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError


def synapse_key(conn):
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


def dense(conn, weights):
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


def source_of(obj):
    """The ensemble of a ``Neurons`` object; anything else as it is."""
    return obj.ensemble if isinstance(obj, nengo.ensemble.Neurons) else obj


def size_out(obj):
    """What ``obj`` sends: an ensemble its spikes, a node its value."""
    return obj.n_neurons if isinstance(obj, nengo.Ensemble) else obj.size_out


class Currents:
    """What feeds each population and node of a network built by nengo.

    Parameters
    ----------
    net : nengo.Network
        The network.
    model : nengo.builder.Model
        Its build (decoders, encoders, gains, biases).
    input_nodes : collection of nengo.Node
        The network's inputs: they stay sources, never folded away.
    """

    def __init__(self, net, model, input_nodes):
        self.model = model
        self.input_nodes = input_nodes
        self.into = {}
        for conn in net.all_connections:
            self.into.setdefault(source_of(conn.post_obj), []).append(conn)

    def matrix(self, conn):
        """``(source, M)``: the contribution ``M @ source_output`` to the
        full input of ``conn.post_obj`` (ensembles: neuron currents)."""
        full_in = self._from_source(conn)
        post = conn.post_obj
        if isinstance(post, nengo.Ensemble):
            rows = np.zeros((post.dimensions, full_in.shape[1]))
            rows[conn.post_slice] = full_in
            full = self.model.params[post].scaled_encoders @ rows
        else:
            full = np.zeros((post.size_in, full_in.shape[1]))
            full[conn.post_slice] = full_in
        return source_of(conn.pre_obj), full

    def _from_source(self, conn):
        """The connection's matrix from all of its source's output to its
        target's (sliced) input."""
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
            return m
        m = dense(conn, built.weights)
        full_in = np.zeros((m.shape[0], size_out(pre)))
        full_in[:, conn.pre_slice] = m
        return full_in

    def terms(self, target, seen=()):
        """``{(source, synapse key): matrix}`` of everything feeding
        ``target`` (an ensemble's neurons or a node), pass-through nodes
        folded."""
        terms = {}
        for conn in self.into.get(target, []):
            key = synapse_key(conn)
            src, m = self.matrix(conn)
            if isinstance(src, nengo.Node) and src not in self.input_nodes:
                self._check_pass_through(src, seen)
                for (s2, k2), m2 in self.terms(src, seen + (src,)).items():
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

    @staticmethod
    def _check_pass_through(node, seen):
        if node.output is not None:
            raise ValidationError(
                f"{node}: a node with its own output is not an input of the "
                f"network and has no NIR form",
                attr="node",
                obj=node,
            )
        if node in seen:
            raise ValidationError(
                f"{node}: a loop of nodes without neurons has no NIR form here",
                attr="node",
                obj=node,
            )

    def upstream(self, out_ens, out_terms):
        """``{ensemble: terms}`` of every ensemble that reaches an output:
        those in ``out_ens`` and those feeding the terms in ``out_terms``."""
        ens_terms = {}
        todo = list(out_ens) + [s for t in out_terms.values() for s, _ in t]
        while todo:
            s = todo.pop()
            if isinstance(s, nengo.Ensemble) and s not in ens_terms:
                ens_terms[s] = self.terms(s)
                todo.extend(k for k, _ in ens_terms[s])
        return ens_terms
