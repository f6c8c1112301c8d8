"""A merged population as a NIR neuron node and its input edges (export
step 4).

* `.DiscreteLIF` (per step): ``LIF`` with ``tau`` from ``beta``;
* `nengo.LIF` with all inputs through one lowpass synapse: ``CubaLIF``;
* `nengo.LIF` otherwise: ``LIF``, with an ``LI`` node before it per lowpass
  synapse.

Each writer takes the `Export` in progress (duck-typed: ``model``,
``conv``, ``bias``, ``kind``, ``model_dt``, ``layout``, ``wiring``) and one
group of the `.Layout`.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.discrete_lif import DiscreteLIF
from nengo_lmu.nir.conventions import META_PREFIX, beta_to_tau, require_nir


def write_population(ex, name, members, n, ens_terms):
    """Add the NIR node ``name`` for ``members`` (``n`` neurons) and the
    edges into it."""
    ntype = members[0].neuron_type
    bias = np.concatenate([ex.model.params[e].bias for e in members])
    full = ex.layout.gather_members(members, ens_terms, n)
    if isinstance(ntype, DiscreteLIF):
        _discrete(ex, name, members[0], n, bias, full)
        return
    check_lif(ex.conv, members[0], ntype)
    keys = {key for (_, key) in full}
    lowpass = [key for key in keys if key not in (None, 0.0)]
    if len(keys) == 1 and len(lowpass) == 1:
        _cuba_lif(ex, name, members[0], n, bias, full, lowpass[0])
        return
    if ex.bias == "input":
        raise ValidationError(
            f"{members[0]}: bias='input' needs one lowpass synapse on every input",
            attr="bias",
        )
    _lif(ex, name, members[0], n, bias, full)


def check_discrete(conv, ens, ntype):
    """Refuse what a `.DiscreteLIF` population needs unless allowed."""
    if ntype.reset == "subtract":
        conv.refuse_unless("reset", ens, "DiscreteLIF subtracts the threshold after a spike")
    if np.isfinite(ntype.min_voltage):
        conv.refuse_unless("clip", ens, f"DiscreteLIF clips its voltage at {ntype.min_voltage}")
    conv.refuse_unless(
        "discrete", ens, "its neurons are defined per step, NIR's in continuous time"
    )


def check_lif(conv, ens, ntype):
    """Refuse neuron types other than `nengo.LIF`, and what NIR's LIF
    lacks unless allowed."""
    if type(ntype) is not nengo.LIF:
        raise ValidationError(
            f"{ens}: neuron type {ntype} has no NIR form here (nengo.LIF and DiscreteLIF map)",
            attr="neuron_type",
            obj=ens,
        )
    if ntype.tau_ref > 0:
        conv.refuse_unless("refractory", ens, f"its refractory period tau_ref={ntype.tau_ref}")
    if np.isfinite(ntype.min_voltage):
        conv.refuse_unless("floor", ens, f"its voltage floor min_voltage={ntype.min_voltage}")


def _discrete(ex, name, ens, n, bias, full):
    """A `.DiscreteLIF` population: ``LIF`` whose ``r = tau`` (times the
    voltage scale), fed per step (synapse None or 0)."""
    nir = require_nir()
    conv, ntype = ex.conv, ens.neuron_type
    check_discrete(conv, ens, ntype)
    tau = beta_to_tau(ntype.beta, conv.dt, conv.discrete, obj=ens)
    k = conv.scale_for(tau, r_unit=tau)
    # v += (r / tau) * (weight * area) per spike = k * J (see conventions)
    node_meta = {META_PREFIX + "reset": ntype.reset}
    if np.isfinite(ntype.min_voltage):
        node_meta[META_PREFIX + "min_voltage"] = float(ntype.min_voltage)
    if ex.bias == "input":
        raise ValidationError(
            f"{ens}: bias='input' is for populations behind a synapse", attr="bias"
        )
    ex.wiring.nodes[name] = nir.LIF(
        tau=np.full(n, tau),
        r=np.full(n, k * tau),
        v_leak=k * bias * tau / conv.dt,
        v_threshold=np.full(n, k * ntype.threshold),
        v_reset=np.zeros(n),
        metadata=node_meta,
    )
    for (src, key), (m, src_obj) in full.items():
        if key not in (None, 0.0):
            raise ValidationError(
                f"{ens}: per-step neurons take synapse None or 0 only, got Lowpass({key})",
                attr="synapse",
                obj=ens,
            )
        if src_obj in ex.layout.input_names:
            scale = 1.0 / conv.spike_area if ex.kind == "spikes" else 1.0 / conv.dt
        else:
            # a spike adds weight * amp / model_dt to J
            scale = src_obj.neuron_type.amplitude / (ex.model_dt * conv.spike_area)
        ex.wiring.edge(src, name, m * scale, key)


def _cuba_lif(ex, name, ens, n, bias, full, tau_syn):
    """A `nengo.LIF` population behind one lowpass synapse: ``CubaLIF``.
    With ``bias="input"`` the bias rides on the first input's ``Affine``."""
    nir = require_nir()
    conv, ntype = ex.conv, ens.neuron_type
    tau = float(ntype.tau_rc)
    k = conv.scale_for(tau)
    v_leak, bias_input = k * bias, None
    if ex.bias == "input":
        conv.refuse_unless("bias", ens, "its bias would pass through its synapse")
        v_leak, bias_input = np.zeros(n), bias
    ex.wiring.nodes[name] = nir.CubaLIF(
        tau_syn=np.full(n, tau_syn),
        tau_mem=np.full(n, tau),
        r=np.full(n, k),
        v_leak=v_leak,
        v_threshold=np.full(n, k),
        v_reset=np.zeros(n),
        w_in=np.ones(n),
    )
    inputs = ex.layout.input_names
    for src, key in sorted(full, key=lambda sk: sk[0] not in ex.inputs):
        m, src_obj = full[(src, key)]
        scale = 1.0 if src_obj in inputs else ntype.amplitude / conv.spike_area
        b = None
        if bias_input is not None and src_obj in inputs:
            b, bias_input = bias_input, None
        ex.wiring.edge(src, name, m * scale, None, bias=b)
    if bias_input is not None:
        raise ValidationError(
            f"{ens}: bias='input' needs an input edge to carry the bias", attr="bias"
        )


def _lif(ex, name, ens, n, bias, full):
    """A `nengo.LIF` population with several (or no) synapses: ``LIF``, an
    ``LI`` node before it per lowpass synapse."""
    nir = require_nir()
    k = ex.conv.scale_for(float(ens.neuron_type.tau_rc))
    ex.wiring.nodes[name] = nir.LIF(
        tau=np.full(n, float(ens.neuron_type.tau_rc)),
        r=np.full(n, k),
        v_leak=k * bias,
        v_threshold=np.full(n, k),
        v_reset=np.zeros(n),
    )
    write_sources(ex, name, n, full)


def write_sources(ex, name, size, full):
    """Edges into ``name`` (an output or a multi-synapse ``LIF``) from the
    gathered matrices ``full`` (`.Layout.gather`)."""
    for (src, key), (m, src_obj) in full.items():
        if src_obj in ex.layout.input_names:
            scale = 1.0
        else:
            scale = src_obj.neuron_type.amplitude / ex.conv.spike_area
        ex.wiring.synapse_edge(src, name, size, m * scale, key)
