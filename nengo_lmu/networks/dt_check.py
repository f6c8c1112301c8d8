"""A build-time check that a network runs at the time step it was made for.

A network that bakes a time step into its weights (a memory discretised at
``dt``, neurons whose spikes carry ``amplitude = dt``) computes something
else, silently, in a simulator with another ``dt``: a `.LegendreMemory` made
for ``dt=0.001`` delays by ``2 theta`` at ``dt=0.002``. `require_dt` adds to
such a network a tiny node whose process sees the simulator's ``dt`` when
the model is built (nengo, NengoDL and nengo-loihi all build it), and raises
a `nengo.exceptions.BuildError` naming the network, the ``dt`` it was made
for and the simulator's.

The process is a pass-through `nengo.LinearFilter` (numerator and
denominator ``[1]``): NengoDL runs it inside TensorFlow with its own linear
filter builder (no Python call per step) and nengo-loihi leaves it on the
host, so the check costs nothing measurable at run time.

Examples
--------
>>> import nengo
>>> with nengo.Network() as net:
...     check = require_dt(net, 0.001)
>>> with nengo.Simulator(net, dt=0.002, progress_bar=False):
...     pass
Traceback (most recent call last):
...
nengo.exceptions.BuildError: ...was made for dt=0.001 but the simulator runs at dt=0.002...
"""

import nengo
import numpy as np
from nengo.exceptions import BuildError

from nengo_lmu.validation import check_positive

#: Relative tolerance of the comparison (dt values differ in rounding only).
RTOL = 1e-9


class DtCheck(nengo.LinearFilter):
    """A pass-through filter that refuses to be built at another ``dt``.

    Parameters
    ----------
    dt : float
        The time step the network was made for.
    owner : str
        How the error names the network (e.g. its ``repr``).
    hint : str
        What to do instead, appended to the error.
    """

    def __init__(self, dt, owner, hint=""):
        super().__init__([1.0], [1.0])
        self.expected_dt = check_positive("dt", dt)
        self.owner = str(owner)
        self.hint = str(hint)

    def check(self, dt):
        """Raise a `BuildError` if ``dt`` is not the expected one."""
        if not np.isclose(float(dt), self.expected_dt, rtol=RTOL, atol=0):
            raise BuildError(
                f"{self.owner} was made for dt={self.expected_dt:g} but the simulator "
                f"runs at dt={float(dt):g}: it would compute something else, silently. "
                f"{self.hint}".rstrip()
            )

    def make_state(self, shape_in, shape_out, dt, dtype=None, y0=0):
        self.check(dt)
        return super().make_state(shape_in, shape_out, dt, dtype=dtype, y0=y0)

    def make_step(self, shape_in, shape_out, dt, rng, state):
        self.check(dt)
        return super().make_step(shape_in, shape_out, dt, rng, state)


def require_dt(network, dt, hint=None):
    """Make building ``network`` at a time step other than ``dt`` an error.

    Adds (inside ``network``) one node whose `DtCheck` process compares the
    simulator's ``dt`` with ``dt`` when the model is built, and stores it
    as ``network.dt_check``. Calling it again replaces the check; ``dt=None``
    removes it (for a network that its container runs one sample per step,
    whatever the simulator's ``dt``, as `.LMUCell` does with its memory).

    Parameters
    ----------
    network : nengo.Network
        The network that baked ``dt`` in.
    dt : float or None
        The time step it was made for; ``None`` removes the check.
    hint : str, optional
        What the user should do instead (default: make the network with
        the simulator's ``dt``).

    Returns
    -------
    nengo.Node or None
        The checking node.

    Examples
    --------
    >>> import nengo
    >>> with nengo.Network() as net:
    ...     pass
    >>> node = require_dt(net, 0.001)
    >>> net.dt_check.output.expected_dt
    0.001
    >>> with nengo.Simulator(net, dt=0.001, progress_bar=False):
    ...     pass
    """
    old = getattr(network, "dt_check", None)
    if old is not None and old in network.nodes:
        network.nodes.remove(old)
    network.dt_check = None
    if dt is None:
        return None
    if hint is None:
        hint = "Make the network with the simulator's dt, or run it at its own."
    process = DtCheck(dt, owner=_describe(network), hint=hint)
    with network:
        node = nengo.Node(process, size_in=1, label="dt check")
    network.dt_check = node
    return node


def _describe(network):
    name = type(network).__name__
    return f"{name} {network.label!r}" if network.label else name
