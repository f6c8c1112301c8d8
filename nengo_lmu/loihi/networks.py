"""Loihi-ready forms of the linear-system networks.

They override only the hooks of `.LinearSystemNetwork` where the chip needs
something else; the realisation, mapping, evaluation points, populations
and state readout are the plain neural form's.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi.hardware import DECODE_TAU, chip_neuron_types
from nengo_lmu.networks.legendre_memory import LegendreMemory
from nengo_lmu.networks.linear_system import SPIKING_INTERCEPT, LinearSystemNetwork
from nengo_lmu.validation import check_int

#: Firing rates of the Loihi form's neurons (Hz): nengo-loihi recommends low
#: rates, because a Loihi neuron spikes at most once per step.
LOIHI_MAX_RATES = (100, 200)


class LoihiNeuralForm:
    """The neural form of `.LinearSystemNetwork`, built to run on Loihi.

    A mixin placed before a `.LinearSystemNetwork` subclass. What changes
    against the plain neural form, and why (each a hook):

    - `_make_input`: the input enters through an input ensemble
      (``input_neurons`` neurons per input dimension, on the chip) with
      synapse ``Lowpass(DECODE_TAU)``: host input reaches the chip through
      that filter anyway, and a block has a single time constant, so the
      state populations (time constant ``synapse``) cannot take host input
      directly. The memory therefore holds the input filtered by that
      Lowpass (a lag of about 5 ms; compensating it in the mapping was tried
      and made the spiking network worse); the state readout accounts for
      it (``input_filter``).
    - `_connection_kwargs`: populations connect neuron to neuron (solver
      ``weights=True``): a decoded connection would go through decode
      neurons, whose block needs weights that the 8-bit discretisation
      cannot hold for the small entries of the recurrent matrix
      (nengo-loihi: "Could not find appropriate weight exponent"), and which
      add a second filter.
    - `_neuron_type`, `_ensemble_defaults`: LIF or SpikingRectifiedLinear
      only, at ``LOIHI_MAX_RATES``, with the plain spiking form's intercepts
      for every ensemble (the input ensemble too).
    """

    def _init_loihi(self, n_neurons, input_neurons):
        self.input_neurons = check_int("input_neurons", input_neurons, None)
        if n_neurons is None:
            raise ValidationError(
                "the Loihi form is neural: give n_neurons", attr="n_neurons"
            )

    def _neuron_type(self, neuron_type):
        neuron_type = super()._neuron_type(neuron_type)
        if not isinstance(neuron_type, chip_neuron_types()):
            raise ValidationError(
                f"must be LIF or SpikingRectifiedLinear to run on Loihi, got "
                f"{type(neuron_type).__name__}",
                attr="neuron_type", obj=self,
            )
        return neuron_type

    def _ensemble_defaults(self, neuron_type, ens_kwargs):
        ens_kwargs = super()._ensemble_defaults(neuron_type, ens_kwargs)
        ens_kwargs.setdefault("max_rates", nengo.dists.Uniform(*LOIHI_MAX_RATES))
        ens_kwargs.setdefault(
            "intercepts", nengo.dists.Uniform(-SPIKING_INTERCEPT, SPIKING_INTERCEPT)
        )
        return ens_kwargs

    def _make_input(self, neuron_type, u, ens_kwargs):
        m_in = self.system.n_inputs
        self.input_filter = nengo.Lowpass(DECODE_TAU)
        self.input_ensemble = nengo.Ensemble(
            self.input_neurons * m_in, m_in, neuron_type=neuron_type,
            radius=1.2 * float(np.max(np.abs(u))),
            **{k: v for k, v in ens_kwargs.items() if k in ("max_rates", "intercepts")},
            label="input ensemble",
        )
        nengo.Connection(self.input, self.input_ensemble, synapse=self.input_filter)
        return self.input_ensemble

    def _connection_kwargs(self):
        return {"solver": nengo.solvers.LstsqL2(weights=True)}


class LoihiLinearSystemNetwork(LoihiNeuralForm, LinearSystemNetwork):
    """`.LinearSystemNetwork`'s neural form, built to run on Loihi.

    Takes the arguments of `.LinearSystemNetwork` (``n_neurons`` is
    required) and ``input_neurons``, the neurons per input dimension of the
    on-chip input ensemble. See `LoihiNeuralForm` for what differs.
    ``neuron_type`` defaults to `nengo.LIF`; ensembles default to
    ``max_rates`` uniform in [100, 200] Hz and intercepts in [-0.75, 0.75].

    Attributes
    ----------
    input_ensemble : nengo.Ensemble
        The input population on the chip.
    input_filter : nengo.Lowpass
        The filter on the way to it (the chip's host-input filter).
    """

    def __init__(self, system, n_neurons, input_neurons=100, **kwargs):
        self._init_loihi(n_neurons, input_neurons)
        super().__init__(system, n_neurons=n_neurons, **kwargs)


class LoihiLegendreMemory(LoihiNeuralForm, LegendreMemory):
    """`.LegendreMemory`'s spiking form, built to run on Loihi.

    Takes the arguments of `.LegendreMemory` (``n_neurons`` is required)
    and ``input_neurons`` (see `LoihiLinearSystemNetwork`).

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(nengo.processes.WhiteSignal(10, high=10))
    ...     mem = LoihiLegendreMemory(6, 0.1, n_neurons=200)
    ...     _ = nengo.Connection(stim, mem.input, synapse=None)
    ...     delayed = mem.add_delay_output(1.0)
    >>> mem.input_ensemble.n_neurons, len(mem.ensembles)
    (100, 7)
    """

    def __init__(self, order, theta, n_neurons, input_neurons=100, **kwargs):
        self._init_loihi(n_neurons, input_neurons)
        super().__init__(order, theta, n_neurons=n_neurons, **kwargs)
