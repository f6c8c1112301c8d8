"""Running exported graphs in an independent reader: snnTorch's neuron
modules (``Leaky``, ``Synaptic``) stepped by nirtorch's interpreter.

One place for the settings that reader needs (`snntorch_options`), the
torch module it makes (`snntorch_module`), a run of it (`run_module`), and
the memory's readout applied to its spikes (`memory_reader_graph`,
`apply_readout`), shared by ``tests/test_nir.py`` and
``benchmarks/nir_export.py``. Needs the ``nir-test`` extra (torch,
snnTorch, nirtorch); torch is imported only when a module is made or run.

snnTorch 1.0.0's ``import_from_nir`` is not used: under nirtorch 2.6 it
rewrites every ``LIF <-> Linear`` loop into a subgraph that feeds the input
through the recurrent weights (and it changes the graph passed in);
nirtorch itself steps every cycle once per step.
"""

import contextlib
import copy
import io

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks import LinearSystemNetwork
from nengo_lmu.networks.spiking_classifier import SpikingClassifier
from nengo_lmu.nir.conventions import SNNTORCH_DT, require_nir


def snntorch_options(obj):
    """The `.to_nir` keywords for snnTorch's reader: steps of ``1e-4`` s,
    a spike is the number 1 (area ``1e-4``), ``r = tau / 1e-4``.

    A classifier (`.L2MU`, `.RecurrentLIF`) also has its one-step delays
    left to the reader's cycles and its per-step neurons written as
    ``LIF`` (``approximate=("discrete",)``, exact at the reader's step); a
    memory has its bias enter through the ``Affine`` of its input (snnTorch
    refuses ``v_leak``: ``approximate=("bias",)``).

    Examples
    --------
    >>> from nengo_lmu.networks import RecurrentLIF
    >>> sorted(snntorch_options(RecurrentLIF(2, 2, hidden_size=3)))
    ['approximate', 'delays', 'dt', 'spike_area', 'voltage_scale']
    """
    common = dict(spike_area=SNNTORCH_DT, voltage_scale="snntorch")
    if isinstance(obj, SpikingClassifier):
        return dict(common, dt=SNNTORCH_DT, delays="cycle", approximate=("discrete",))
    if isinstance(obj, LinearSystemNetwork):
        return dict(common, bias="input", approximate=("bias",))
    raise ValidationError(
        f"snnTorch options exist for memories and classifiers, got {type(obj).__name__}",
        attr="obj",
    )


def snntorch_module(graph):
    """A torch module for ``graph``: nirtorch's interpreter with snnTorch's
    own mapping of each node (``LIF``, ``CubaLIF``, ``Linear``,
    ``Affine``). The graph passed in is left as it is."""
    nir = require_nir()
    import nirtorch
    from snntorch import import_nir

    def node(n):
        return import_nir._nir_to_snntorch_module(n, init_hidden=True)

    types = (nir.LIF, nir.CubaLIF, nir.Linear, nir.Affine)
    # snnTorch prints every threshold rescaling it does
    with contextlib.redirect_stdout(io.StringIO()):
        return nirtorch.nir_to_torch(copy.deepcopy(graph), {t: node for t in types})


def run_module(module, x, repeat=1):
    """Output of ``module`` stepped through ``x`` (steps, size), each row
    held for ``repeat`` steps, from rest: (steps * repeat, size_out)."""
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


def memory_reader_graph(graph, node="neurons"):
    """The part of a memory's graph the reader runs: the input, the neuron
    node and the weights into it, with the spikes as the output (snnTorch
    reads no ``LI``, which the readout uses)."""
    nir = require_nir()
    keep = {"input", node} | {
        a
        for a, b in graph.edges
        if b == node and isinstance(graph.nodes[a], (nir.Linear, nir.Affine))
    }
    nodes = {k: v for k, v in graph.nodes.items() if k in keep}
    size = np.size(graph.nodes[node].v_threshold)
    nodes["spikes"] = nir.Output(output_type={"output": np.array([size])})
    edges = [e for e in graph.edges if e[0] in nodes and e[1] in nodes]
    return nir.NIRGraph(nodes=nodes, edges=edges + [(node, "spikes")])


def apply_readout(graph, values, dt):
    """The ``output`` of a graph computed from its sources' outputs:
    ``values`` maps node names (``"input"``, the neuron node) to arrays of
    (steps, size) at step ``dt`` (spikes as area per second, ``1 / dt``
    high). ``Linear`` edges multiply, ``LI`` nodes filter as a
    ``nengo.Lowpass`` synapse does in nengo's simulator (from rest, this
    step's output from the step before's input); nothing else may lie on
    the way."""
    import nengo

    nir = require_nir()
    sources = {b: a for a, b in graph.edges}  # a Linear's one source

    def into(name):
        total = 0
        for a, b in graph.edges:
            if b != name:
                continue
            node = graph.nodes[a]
            if isinstance(node, nir.Linear):
                total = total + values[sources[a]] @ node.weight.T
            elif isinstance(node, nir.LI):
                filt = nengo.Lowpass(float(np.unique(node.tau)[0]))
                x = into(a) * node.r
                # as in nengo's simulator: a synapse takes the step before's input
                x = np.concatenate([np.zeros_like(x[:1]), x[:-1]])
                total = total + filt.filt(x, dt=dt, y0=0)
            else:
                raise ValidationError(
                    f"{a!r} ({type(node).__name__}) is not a Linear or LI node", attr="graph"
                )
        return total

    return into("output")
