"""`resource_counts`: what the chip used and did during an emulator run
(the NeuroBench-style measures: activation sparsity, synaptic operations,
parameter footprint)."""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi._compat import TALLY, fanout
from nengo_lmu.validation import check_int


def resource_counts(sim, n_inferences=1):
    """What the chip used and did during an emulator run.

    Parameters
    ----------
    sim : nengo_loihi.Simulator
        After running, with ``target="sim"`` or ``"simreal"`` (built by
        `simulator`, which also counts the host's spikes into the chip).
    n_inferences : int
        Number of inferences (e.g. sequences) the run contained; the
        ``*_per_inference`` entries divide by it.

    Returns
    -------
    dict
        ``cores`` (one block per core in nengo-loihi 1.1), ``compartments``,
        ``in_axons``, ``out_axons``, ``weights`` (synaptic weights stored:
        the parameter footprint), ``synapse_bits``, ``steps``, ``spikes``
        (of all chip compartments), ``synaptic_ops`` (for every spike, the
        synapses it reaches on the chip), ``activation_sparsity`` (fraction
        of compartment-steps without a spike), and the per-inference
        ``spikes_per_inference`` and ``synaptic_ops_per_inference``.
    """
    n_inferences = check_int("n_inferences", n_inferences, None)
    emu = sim.sims.get("emulator")
    if emu is None:
        raise ValidationError(
            "resource counts come from the emulator: use target='sim' or 'simreal'",
            attr="sim",
        )
    blocks = list(sim.model.blocks)
    slices = emu.block_info.slices
    counts = emu.compartment.spike_count
    out = dict(
        cores=len(blocks), compartments=0, in_axons=0, out_axons=0, weights=0, synapse_bits=0
    )
    spikes = 0
    synops = 0
    for block in blocks:
        use = block.utilization()
        out["compartments"] += use["compartments"][0]
        out["in_axons"] += use["in-axons"][0]
        out["out_axons"] += use["out-axons"][0]
        out["synapse_bits"] += use["synapses"][0]
        out["weights"] += sum(int(np.count_nonzero(w)) for s in block.synapses for w in s.weights)
        c = np.asarray(counts[slices[block]], dtype=np.int64)
        spikes += int(c.sum())
        synops += int(c @ fanout(block.axons, block.n_neurons))
    in_spikes = in_synops = 0
    for inp in sim.model.inputs:
        tally = getattr(inp, TALLY, None)
        if tally is not None:
            in_spikes += tally["spikes"]
            in_synops += tally["synaptic_ops"]
    steps = sim.n_steps
    out.update(
        steps=steps,
        spikes=spikes,
        input_spikes=in_spikes,
        synaptic_ops=synops + in_synops,
        input_synaptic_ops=in_synops,
        activation_sparsity=1.0 - spikes / max(out["compartments"] * steps, 1),
        spikes_per_inference=spikes / n_inferences,
        synaptic_ops_per_inference=(synops + in_synops) / n_inferences,
    )
    return out
