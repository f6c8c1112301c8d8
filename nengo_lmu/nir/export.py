"""`to_nir`: the package's spiking networks as NIR graphs.

The exporter builds the network with nengo's reference builder (so that the
decoders, gains and biases are the ones nengo runs), then walks it:

1. `.currents`: every connection becomes one matrix from its source's
   output (an input node's value, or a population's spikes) to its target's
   input, with nengo's decoders, transform, slices and encoders folded in;
   pass-through nodes (no function) are folded away;
2. `.layout`: populations with the same neuron model, the same synapses on
   their inputs and no output role are merged into one NIR node (the
   memory's six populations become one ``CubaLIF`` of 996 neurons with one
   recurrent ``Linear``: the form snnTorch's importer recognises as
   ``RSynaptic``);
3. `.populations`: each population becomes ``CubaLIF`` (all its inputs
   through one lowpass synapse), ``LIF`` (none), or ``LI`` nodes before a
   ``LIF`` (several synapses);
4. `.wiring`: the weights become ``Linear`` / ``Affine`` nodes, one-step
   delays ``Delay`` nodes (or cycles), outputs read through a lowpass
   synapse get an ``LI`` node, and the nodes are put in stepping order.

The recurrent weights are written in full (neuron to neuron), not as two
``Linear`` nodes through a low-dimensional node: both are exact (a chain of
``Linear`` nodes is one matrix product), but only the full matrix is the
``LIF <-> Linear`` loop that the readers (snnTorch, nirtorch, hardware
mappers) recognise, and a hardware mapper would multiply the factors out
anyway. It costs ``N**2`` numbers instead of ``2 N d`` (996 neurons: 992,016
against 11,952).
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks import LinearSystemNetwork
from nengo_lmu.networks.spiking_classifier import SpikingClassifier
from nengo_lmu.nir.conventions import META_PREFIX, Conventions, require_nir
from nengo_lmu.nir.currents import Currents
from nengo_lmu.nir.layout import Layout
from nengo_lmu.nir.populations import write_population, write_sources
from nengo_lmu.nir.wiring import Wiring
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
    nodes, edges, meta = Export(obj, model_dt, conv, bias, inputs, outputs, kind).run()
    meta.update(conv.metadata())
    meta[META_PREFIX + "source"] = type(obj).__name__
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


class Export:
    """One export: the network built by nengo, its currents, its layout and
    the graph being written."""

    def __init__(self, net, model_dt, conv, bias, inputs, outputs, kind):
        self.net, self.conv, self.bias = net, conv, bias
        self.inputs, self.outputs, self.kind = inputs, outputs, kind
        with nengo.Simulator(net, dt=model_dt, progress_bar=False, optimize=False) as sim:
            self.model = sim.model
        self.model_dt = model_dt
        self.wiring = Wiring(conv)
        self.layout = None

    def run(self):
        """``(nodes, edges, metadata)`` of the graph."""
        nir = require_nir()
        input_names = {v: k for k, v in self.inputs.items()}
        currents = Currents(self.net, self.model, input_names)
        out_ens = {o for o in self.outputs.values() if isinstance(o, nengo.Ensemble)}
        out_terms = {
            name: currents.terms(o)
            for name, o in self.outputs.items()
            if isinstance(o, nengo.Node)
        }
        ens_terms = currents.upstream(out_ens, out_terms)
        ensembles = [e for e in self.net.all_ensembles if e in ens_terms]
        self.layout = Layout(ensembles, ens_terms, out_ens, input_names)
        wiring = self.wiring
        for name, node in self.inputs.items():
            wiring.nodes[name] = nir.Input(input_type={"input": np.array([node.size_out])})
        for name, members, n in self.layout.groups:
            write_population(self, name, members, n, ens_terms)
        self._outputs(out_terms)
        meta = {}
        if wiring.delayed:
            meta[META_PREFIX + "delayed_edges"] = ";".join(f"{a}>{b}" for a, b in wiring.delayed)
        wiring.check_cycles()
        return wiring.ordered(), wiring.edges, meta

    def _outputs(self, out_terms):
        """The ``Output`` nodes: decoded (through ``LI`` for a lowpass) or
        a population's spikes."""
        nir = require_nir()
        wiring = self.wiring
        for name, terms in out_terms.items():
            size = self.outputs[name].size_out
            full = self.layout.gather([(slice(None), terms)], size)
            write_sources(self, name, size, full)
            wiring.nodes[name] = nir.Output(output_type={"output": np.array([size])})
        for name, ens in self.outputs.items():
            if isinstance(ens, nengo.Ensemble):
                size = np.array([ens.n_neurons])
                wiring.nodes[name] = nir.Output(output_type={"output": size})
                wiring.edges.append((self.layout.group_of[ens], name))
