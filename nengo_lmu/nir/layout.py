"""Which NIR node each population becomes (export step 3).

Populations with the same neuron model, the same synapses on their inputs
and no output role are merged into one NIR node: the memory's six
populations become one ``CubaLIF`` of 996 neurons with one recurrent
``Linear`` (the form snnTorch's importer recognises as ``RSynaptic``). The
`Layout` places each population's neurons in its node and gathers the
matrices into a node from each source node.
"""

import re

import numpy as np
from nengo.exceptions import ValidationError


def unique_name(obj, taken):
    """A NIR node name from ``obj``'s label (or ``obj`` itself, a string),
    made unique among ``taken`` (which it joins)."""
    label = obj if isinstance(obj, str) else getattr(obj, "label", None)
    base = re.sub(r"[^A-Za-z0-9_]+", "_", str(label or "pop")).strip("_")
    base = base or "pop"
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


class Layout:
    """The merged populations of one export.

    Parameters
    ----------
    ensembles : list of nengo.Ensemble
        The populations written, in the network's order.
    ens_terms : dict
        ``{ensemble: {(source, synapse key): matrix}}`` (`.Currents.terms`).
    out_ens : collection of nengo.Ensemble
        Populations that are outputs themselves (never merged).
    input_names : dict
        ``{input node: NIR name}``.

    Attributes
    ----------
    groups : list of (name, members, n_neurons)
        The NIR neuron nodes, in the order they are written.
    """

    def __init__(self, ensembles, ens_terms, out_ens, input_names):
        self.input_names = input_names
        for ens in ensembles:
            if ens.noise is not None:
                raise ValidationError(
                    f"{ens}: neuron noise has no NIR form", attr="noise", obj=ens
                )
        merged = {}
        for ens in ensembles:
            syn = tuple(sorted({k for (_, k) in ens_terms[ens]}, key=repr))
            key = (repr(ens.neuron_type), syn) if ens not in out_ens else (id(ens),)
            merged.setdefault(key, []).append(ens)
        taken = {"input", "output"}
        self.group_of, self.offset, self.groups = {}, {}, []
        for members in merged.values():
            name = unique_name(members[0] if len(members) == 1 else "neurons", taken)
            start = 0
            for ens in members:
                self.group_of[ens] = name
                self.offset[ens] = start
                start += ens.n_neurons
            self.groups.append((name, members, start))
        self.size = {name: n for name, _, n in self.groups}

    def node_of(self, src):
        """The NIR name of a source (an input node or a population)."""
        if src in self.input_names:
            return self.input_names[src]
        return self.group_of[src]

    def columns(self, src):
        """``(width, columns)``: the source's place in its node's output."""
        if src in self.input_names:
            return src.size_out, slice(None)
        start = self.offset[src]
        return self.size[self.group_of[src]], slice(start, start + src.n_neurons)

    def gather(self, targets, n_rows):
        """``{(source node, synapse key): [matrix, source object]}``: the
        matrices into a node of ``n_rows`` from each source node.

        ``targets`` is a list of ``(rows, terms)``: the rows of the node a
        term dictionary (`.Currents.terms`) feeds.
        """
        out = {}
        for rows, terms in targets:
            for (src, key), m in terms.items():
                name = self.node_of(src)
                width, cols = self.columns(src)
                if (name, key) not in out:
                    out[(name, key)] = [np.zeros((n_rows, width)), src]
                out[(name, key)][0][rows, cols] += m
        return out

    def gather_members(self, members, terms_of, n_rows):
        """`gather` over the members of a merged population."""
        targets = []
        for ens in members:
            start = self.offset[ens]
            targets.append((slice(start, start + ens.n_neurons), terms_of[ens]))
        return self.gather(targets, n_rows)
