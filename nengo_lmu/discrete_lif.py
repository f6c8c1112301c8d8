"""A discrete-time leaky integrate-and-fire neuron (the L2MU neuron model).

The neuron of L2MU [1]_ (snnTorch's ``Leaky`` with subtract reset [2]_) is
defined per simulator step, not by a differential equation::

    U[t] = beta * U[t-1] + I[t] - threshold * S[t-1]
    S[t] = 1 if U[t] > threshold else 0

``beta`` and ``threshold`` are one value per population. This module holds the
neuron type, its nengo build function and the reference operator (pure numpy;
no TensorFlow). The NengoDL builder, which makes ``beta`` and ``threshold``
trainable and gives the spike a surrogate gradient, is in
`nengo_lmu.dl.neurons`.

References
----------
.. [1] Leto, B., Urgese, G., Macii, E., & Fra, V. (2025). A LIF-based Legendre
   Memory Unit as neuromorphic state space model benchmarked on a
   second-long spatio-temporal task. NICE 2025.
.. [2] Eshraghian, J. K., et al. (2023). Training spiking neural networks
   using lessons from deep learning. Proceedings of the IEEE 111(9).
"""

import nengo
import numpy as np
from nengo.builder import Builder, Operator, Signal
from nengo.dists import Choice
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu.validation import check_positive


def check_beta(beta, obj=None, attr="beta"):
    """Check a membrane decay factor: a finite number in [0, 1]."""
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise ValidationError(
            f"must be a number in [0, 1], got {beta!r}", attr=attr, obj=obj
        ) from None
    if not (np.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValidationError(f"must be a decay factor in [0, 1], got {value}", attr=attr, obj=obj)
    return value


def check_threshold(threshold, obj=None, attr="threshold"):
    """Check a firing threshold: a positive finite number."""
    return check_positive(attr, threshold, obj=obj)


RESETS = ("subtract", "zero")


def discrete_lif_step(J, voltage, spiked, beta, threshold, reset="subtract", min_voltage=-np.inf):
    """One step of the discrete LIF, in place on ``voltage`` and ``spiked``.

    ``reset="subtract"``: ``voltage`` holds ``U[t-1]`` and ``spiked``
    ``S[t-1]`` (0 or 1) on entry, ``U[t]`` and ``S[t]`` on exit::

        U[t] = beta U[t-1] + J[t] - threshold S[t-1]

    ``reset="zero"``: ``voltage`` holds the potential after the previous
    step's reset (0 if that step spiked)::

        U[t] = beta V[t-1] + J[t],   V[t] = 0 if S[t] else U[t]

    Either way a neuron spikes when ``U[t] > threshold``, and the stored
    voltage is then clipped from below at ``min_voltage``. Returns ``spiked``.
    """
    voltage *= beta
    voltage += J
    if reset == "subtract":
        voltage -= threshold * spiked
        spiked[...] = voltage > threshold
    else:
        spiked[...] = voltage > threshold
        voltage[spiked > 0] = 0.0
    np.maximum(voltage, min_voltage, out=voltage)
    return spiked


class DiscreteLIF(nengo.neurons.NeuronType):
    """Discrete-time LIF neuron with subtract reset, as in L2MU [1]_.

    On every simulator step, whatever the step's length ``dt``::

        U[t] = beta * U[t-1] + J[t] - threshold * S[t-1]
        S[t] = 1 if U[t] > threshold else 0

    and the output is ``amplitude * S[t] / dt`` (nengo's convention for
    spikes: each spike integrates to ``amplitude``). With ``amplitude=dt``
    the output is the spike ``S[t]`` itself, which is what `.L2MU` uses.

    Parameters
    ----------
    beta : float
        Membrane decay per step, in [0, 1] (1: no leak; 0: no memory).
    threshold : float
        Firing threshold (> 0); also the amount subtracted after a spike.
    amplitude : float
        Scale of the output (> 0).
    surrogate_alpha : float
        Width parameter of the ATan surrogate gradient used by the NengoDL
        builder (`nengo_lmu.dl.neurons`): the spike's derivative is replaced
        by ``(alpha/2) / (1 + (pi/2 * alpha * (U - threshold))^2)``, as in
        snnTorch [2]_. Larger is narrower. Unused by the nengo reference.
    learnable : bool
        Whether NengoDL trains ``beta`` and ``threshold`` (one scalar each per
        population, as in [1]_). The nengo reference simulator reads the
        values given here.
    reset : "subtract" or "zero"
        ``"subtract"`` (L2MU, the equation above) or ``"zero"``: the
        potential is set to 0 after a spike (``U[t] = beta V[t-1] + J[t]``
        with ``V = 0`` after a spike), as Loihi's LIF compartments do.
    min_voltage : float
        The stored potential is clipped from below at this value (``-inf``:
        no clipping; Loihi clips).
    initial_state : dict, optional
        Initial ``voltage`` (``U``) and ``spiked`` (``S``, 0 or 1); zero by
        default.

    References
    ----------
    .. [1] Leto, B., Urgese, G., Macii, E., & Fra, V. (2025). A LIF-based
       Legendre Memory Unit as neuromorphic state space model benchmarked on
       a second-long spatio-temporal task. NICE 2025.
    .. [2] Eshraghian, J. K., et al. (2023). Training spiking neural networks
       using lessons from deep learning. Proceedings of the IEEE 111(9).
    """

    state = {"voltage": Choice([0.0]), "spiked": Choice([0.0])}
    spiking = True
    negative = True

    beta = nengo.params.NumberParam("beta", low=0, high=1)
    threshold = nengo.params.NumberParam("threshold", low=0, low_open=True)
    amplitude = nengo.params.NumberParam("amplitude", low=0, low_open=True)
    surrogate_alpha = nengo.params.NumberParam("surrogate_alpha", low=0, low_open=True)
    learnable = nengo.params.BoolParam("learnable")
    reset = nengo.params.EnumParam("reset", values=RESETS)
    min_voltage = nengo.params.NumberParam("min_voltage", high=0)

    def __init__(
        self,
        beta,
        threshold,
        amplitude=1.0,
        surrogate_alpha=2.0,
        learnable=True,
        reset="subtract",
        min_voltage=-np.inf,
        initial_state=None,
    ):
        super().__init__(initial_state=initial_state)
        self.beta = check_beta(beta, obj=self)
        self.threshold = check_threshold(threshold, obj=self)
        self.amplitude = check_positive("amplitude", amplitude, obj=self)
        self.surrogate_alpha = check_positive("surrogate_alpha", surrogate_alpha, obj=self)
        if not isinstance(learnable, (bool, np.bool_)):
            raise ValidationError(
                f"must be True or False, got {learnable!r}", attr="learnable", obj=self
            )
        self.learnable = bool(learnable)
        if reset not in RESETS:
            raise ValidationError(
                f"must be one of {RESETS}, got {reset!r}", attr="reset", obj=self
            )
        self.reset = reset
        try:
            mv = float(min_voltage)
        except (TypeError, ValueError):
            mv = np.nan
        if np.isnan(mv) or mv > 0:
            raise ValidationError(
                f"must be a number <= 0 (or -inf), got {min_voltage!r}",
                attr="min_voltage",
                obj=self,
            )
        self.min_voltage = mv

    def gain_bias(self, max_rates, intercepts):
        raise ValidationError(
            "DiscreteLIF has no rate curve: give the Ensemble explicit gain and "
            "bias (e.g. gain=nengo.dists.Choice([1]), bias=nengo.dists.Choice([0]))",
            attr="neuron_type",
            obj=self,
        )

    def max_rates_intercepts(self, gain, bias):
        # nengo asks for these when gain and bias are given; a per-step model
        # has no rate curve in Hz, so they are undefined (NaN)
        nan = np.full(np.shape(gain), np.nan)
        return nan, nan.copy()

    def step(self, dt, J, output, voltage, spiked):
        """The reference step with this type's own ``beta`` and ``threshold``."""
        discrete_lif_step(
            J, voltage, spiked, self.beta, self.threshold, self.reset, self.min_voltage
        )
        output[...] = spiked * (self.amplitude / dt)


class SimDiscreteLIF(Operator):
    """Reference operator of a `DiscreteLIF` population.

    Unlike `nengo.builder.neurons.SimNeurons` it reads ``beta`` and
    ``threshold`` from signals (one element each), so that NengoDL can make
    them trainable parameters.

    Notes
    -----
    1. sets ``[output]``
    2. incs ``[]``
    3. reads ``[J, beta, threshold]``
    4. updates ``[voltage, spiked]``

    The state is listed as updated, not set (as `.SimNeurons` lists it), so
    that NengoDL keeps its initial value: nothing but this operator touches
    it, so nengo's ordering is the same either way.
    """

    def __init__(self, neurons, J, output, voltage, spiked, beta, threshold, tag=None):
        super().__init__(tag=tag)
        self.neurons = neurons
        self.sets = [output]
        self.incs = []
        self.reads = [J, beta, threshold]
        self.updates = [voltage, spiked]

    J = property(lambda self: self.reads[0])
    beta = property(lambda self: self.reads[1])
    threshold = property(lambda self: self.reads[2])
    output = property(lambda self: self.sets[0])
    voltage = property(lambda self: self.updates[0])
    spiked = property(lambda self: self.updates[1])

    @property
    def _descstr(self):
        return f"{self.neurons}, {self.J}, {self.output}"

    def make_step(self, signals, dt, rng):
        J = signals[self.J]
        output = signals[self.output]
        voltage = signals[self.voltage]
        spiked = signals[self.spiked]
        beta = signals[self.beta]
        threshold = signals[self.threshold]
        scale = self.neurons.amplitude / dt
        reset, min_voltage = self.neurons.reset, self.neurons.min_voltage

        def step_discrete_lif():
            discrete_lif_step(J, voltage, spiked, beta[0], threshold[0], reset, min_voltage)
            output[...] = spiked * scale

        return step_discrete_lif


@Builder.register(DiscreteLIF)
def build_discrete_lif(model, neuron_type, neurons):
    """Add a `SimDiscreteLIF` and its signals to ``model``.

    ``model.sig[neurons]`` gets ``"voltage"``, ``"spiked"``, ``"beta"`` and
    ``"threshold"``. The last two are marked trainable for NengoDL when
    ``neuron_type.learnable`` (NengoDL reads the ``trainable`` attribute of
    signals it has not marked itself); the nengo reference ignores the mark.
    """
    J = model.sig[neurons]["in"]
    n = neurons.size_in
    rng = np.random.RandomState(model.seeds[neurons.ensemble] + 1)
    init = neuron_type.make_state(n, rng=rng, dtype=J.dtype)
    spiked0 = np.asarray(init["spiked"])
    if not np.all((spiked0 == 0) | (spiked0 == 1)):
        raise BuildError(f"{neurons}: initial 'spiked' state must be 0 or 1")
    for key in ("voltage", "spiked"):
        model.sig[neurons][key] = Signal(initial_value=init[key], name=f"{neurons}.{key}")
    for key in ("beta", "threshold"):
        sig = Signal(
            initial_value=np.array([getattr(neuron_type, key)], dtype=J.dtype),
            name=f"{neurons}.{key}",
        )
        sig.trainable = neuron_type.learnable
        sig.minibatched = False
        model.sig[neurons][key] = sig
    model.add_op(
        SimDiscreteLIF(
            neuron_type,
            J,
            model.sig[neurons]["out"],
            model.sig[neurons]["voltage"],
            model.sig[neurons]["spiked"],
            model.sig[neurons]["beta"],
            model.sig[neurons]["threshold"],
        )
    )
