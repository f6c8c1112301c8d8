"""The LMU memory as a nengo network."""

import nengo
import numpy as np

from nengo_lmu.networks.linear_system import (
    LinearSystemNetwork,
    default_process,
    sample_input,
)
from nengo_lmu.systems import (
    DEFAULT_REALIZER,
    DISCRETIZERS,
    LinearSystem,
    as_realizer,
    check_order,
    check_theta_dt,
    euler_accuracy_warning,
    legendre_readout,
    legendre_system,
)
from nengo_lmu.validation import check_choice, check_int, check_positive


class LegendreMemory(LinearSystemNetwork):
    """The Legendre Memory Unit's memory: a sliding window of the input.

    Every input dimension gets its own ``order``-dimensional memory of the
    last ``theta`` seconds (`nengo_lmu.legendre_system`). The memory is laid
    out as ``(size_in, order)`` flattened row-major, as in KerasLMU, and the
    ``output`` node always carries it in the standard Legendre basis,
    whatever basis the neurons use internally.

    Parameters
    ----------
    order : int
        Legendre coefficients per input dimension.
    theta : float
        Window length in seconds (in steps when ``dt=1`` and each simulator
        step is one sample).
    size_in : int
        Number of input dimensions.
    n_neurons : int, optional
        Neurons per ensemble (``None``: the exact form, see
        `.LinearSystemNetwork`).
    dt : float
        Simulator time step; must be below ``theta``.
    discretizer : "zoh" or "euler"
        Discretisation of the exact form. Euler is rejected where it is
        unstable and warns where ``theta < 4*order*dt`` (inaccurate).
    realizer : str, callable or array_like
        As for `.LinearSystemNetwork` (default ``"scaled"``), applied to
        one input dimension's memory and repeated; ``"balanced"``
        balances each memory with respect to its delay-``theta`` readout.
    process : nengo.Process or array_like, optional
        A sample of one input dimension, used to scale the neural form.
        Defaults to white noise band-limited to ``1/theta`` Hz, rms 0.5.
    **kwargs
        Passed to `.LinearSystemNetwork` (``synapse``, ``neuron_type``,
        ``mapping``, ``radius``, ``ens_dimensions``, ``ens_kwargs``, ...).

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(nengo.processes.WhiteSignal(10, high=10))
    ...     mem = LegendreMemory(order=6, theta=0.1)
    ...     _ = nengo.Connection(stim, mem.input, synapse=None)
    ...     delayed = mem.add_delay_output(1.0)
    >>> mem.output.size_out, delayed.size_out
    (6, 1)
    """

    def __init__(
        self,
        order,
        theta,
        size_in=1,
        n_neurons=None,
        dt=0.001,
        discretizer="zoh",
        realizer=DEFAULT_REALIZER,
        process=None,
        label=None,
        seed=None,
        add_to_container=None,
        **kwargs,
    ):
        order = check_order(order, obj=self)
        theta, dt = check_theta_dt(theta, dt, obj=self)
        size_in = check_int("size_in", size_in, obj=self)
        check_choice("discretizer", discretizer, DISCRETIZERS, obj=self)
        if discretizer == "euler":
            euler_accuracy_warning(order, theta, dt)
        self.order = order
        self.theta = theta
        self.size_in = int(size_in)

        block = legendre_system(order, theta)
        eye = np.eye(self.size_in)
        system = LinearSystem(np.kron(eye, block.A), np.kron(eye, block.B))

        if n_neurons is not None and (isinstance(realizer, str) or callable(realizer)):
            rule = as_realizer(realizer, obj=self)
            # Realise one memory and repeat it: balancing the block-diagonal
            # system directly would mix identical memories arbitrarily.
            one = block.with_outputs(legendre_readout(order, 1.0)[None, :])
            done = one.discretize(dt)
            if process is None:
                process = default_process(done)
            rng = np.random.RandomState(seed)
            u = sample_input(process, 1, dt, rng, obj=self)
            T1 = rule(done, u, check_positive("radius", kwargs.get("radius", 1.0), self))
            realizer = np.kron(eye, T1)
            process = np.tile(u, (1, self.size_in))

        super().__init__(
            system,
            n_neurons=n_neurons,
            dt=dt,
            discretizer=discretizer,
            realizer=realizer,
            process=process,
            label=label,
            seed=seed,
            add_to_container=add_to_container,
            **kwargs,
        )

    def add_delay_output(self, r, synapse=None, label=None):
        """Add a node that decodes the input delayed by ``r * theta``.

        Parameters
        ----------
        r : float or array_like
            Relative delays in ``[0, 1]``.
        synapse : nengo.synapses.Synapse, optional
            Synapse on the readout connection (none by default: ``output``
            is already smooth).
        label : str, optional

        Returns
        -------
        nengo.Node
            Of size ``size_in`` for a scalar ``r``; for an array, ``len(r)``
            delays of each input dimension, ordered ``(size_in, len(r))``
            row-major.
        """
        rows = np.atleast_2d(legendre_readout(self.order, r))
        transform = np.kron(np.eye(self.size_in), rows)
        with self:
            node = nengo.Node(
                size_in=transform.shape[0],
                label=label or f"delay(r={np.round(r, 4).tolist()})",
            )
            nengo.Connection(self.output, node, transform=transform, synapse=synapse)
        return node
