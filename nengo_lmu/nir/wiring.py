"""The nodes and edges of a NIR graph being written (export step 4's
plumbing): weights as ``Linear`` / ``Affine`` nodes, one-step delays as
``Delay`` nodes or delayed cycle edges, lowpass synapses before outputs as
``LI`` nodes, and the order of the nodes."""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.nir.conventions import require_nir


class Wiring:
    """The growing graph: ``nodes`` (name -> NIR node) and ``edges``.

    Parameters
    ----------
    conv : Conventions
        The export's conventions (``dt``, ``delays``).
    """

    def __init__(self, conv):
        self.conv = conv
        self.nodes, self.edges = {}, []
        self.delayed = []  # (Linear, target) edges that carry one step
        self.li = {}  # (target, tau) -> LI node name

    def edge(self, src, dst, m, key, bias=None):
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
                self.nodes[dname] = nir.Delay(delay=np.full(m.shape[1], self.conv.dt))
                self.edges.append((src, dname))
            self.edges.append((dname, lin))
        else:
            self.edges.append((src, lin))
            if key == 0.0:
                self.delayed.append((lin, dst))
        self.edges.append((lin, dst))

    def synapse_edge(self, src, dst, size, m, key):
        """``src -> dst`` through ``key``: an ``LI`` node per lowpass
        synapse of ``dst`` (shared by its sources), ``Delay`` for one step,
        direct for none."""
        if key is None or key == 0.0:
            self.edge(src, dst, m, key)
            return
        li = self.li.get((dst, key))
        if li is None:
            nir = require_nir()
            li = self.li[(dst, key)] = f"{dst}.synapse_{len(self.li)}"
            self.nodes[li] = nir.LI(tau=np.full(size, key), r=np.ones(size), v_leak=np.zeros(size))
            self.edges.append((li, dst))
        self.edge(src, li, m, None)

    def ordered(self):
        """``nodes`` in an order that steps the graph right: each node after
        the nodes it takes this step's output from, and the weights of a
        delayed edge after the node they feed (readers that go through the
        nodes in order, such as nirtorch, then give exactly those edges the
        step). Edges into ``Delay`` nodes do not order."""
        nir = require_nir()
        delayed = set(self.delayed)
        after = {n: set() for n in self.nodes}  # node -> nodes that must come first
        for a, b in self.edges:
            if (a, b) in delayed:
                after[a].add(b)
            elif not isinstance(self.nodes[b], nir.Delay):
                after[b].add(a)
        order, done = [], set()
        pending = list(self.nodes)
        while pending:
            ready = [n for n in pending if after[n] <= done]
            if not ready:  # a loop without delay: keep the given order
                ready = pending[:1]
            for n in ready:
                order.append(n)
                done.add(n)
            pending = [n for n in pending if n not in done]
        return {n: self.nodes[n] for n in order}

    def check_cycles(self):
        """With ``delays="cycle"`` every delayed edge must close a cycle."""
        succ = {}
        for a, b in self.edges:
            succ.setdefault(a, []).append(b)
        for lin, dst in self.delayed:
            if not _reaches(succ, dst, lin):
                raise ValidationError(
                    f"the one-step delay into {dst!r} closes no cycle: "
                    f"delays='cycle' cannot express it (use delays='node')",
                    attr="delays",
                )


def _reaches(succ, a, b):
    """Whether a path of ``succ`` leads from ``a`` to ``b``."""
    seen, todo = set(), [a]
    while todo:
        x = todo.pop()
        if x == b:
            return True
        if x not in seen:
            seen.add(x)
            todo.extend(succ.get(x, []))
    return False
