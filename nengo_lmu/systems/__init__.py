"""The mathematics of the Legendre Memory Unit, as pure numpy/scipy functions.

Nothing here knows about nengo networks or TensorFlow: every other part of
``nengo_lmu`` builds on these functions.

Conventions
-----------
A discrete `LinearSystem` follows the LMU's convention, in which the input of
step ``t`` already acts on the state of step ``t``::

    x[t] = A x[t-1] + B u[t]
    y[t] = C x[t] + D u[t]

so that the impulse response of the state is ``H[k] = A^k B`` (``H[0] = B``)
and a whole sequence is ``x[t] = sum_{j <= t} H[t - j] u[j]``.

References
----------
.. [1] Voelker, A. R., Kajic, I., & Eliasmith, C. (2019). Legendre Memory
   Units: continuous-time representation in recurrent neural networks.
   NeurIPS 32.
.. [2] Eliasmith, C., & Anderson, C. H. (2003). Neural engineering:
   computation, representation, and dynamics in neurobiological systems.
   MIT Press. (Principle 3: mapping linear dynamics onto a synapse.)
.. [3] Moore, B. (1981). Principal component analysis in linear systems:
   controllability, observability, and model reduction. IEEE TAC 26(1).
"""

# The package by job: `linear` (LinearSystem), `legendre` (the memory's
# system and its discretisation rules), `mapping` (onto a synapse). The
# realisations (balanced_transform, realize, the Realizer rules) are in
# nengo_lmu.realizers.
from nengo_lmu.systems.legendre import (  # noqa: F401
    check_euler,
    check_theta_dt,
    euler_min_theta,
    legendre_readout,
    legendre_system,
)
from nengo_lmu.systems.linear import DISCRETIZERS, LinearSystem, check_order  # noqa: F401
from nengo_lmu.systems.mapping import (  # noqa: F401
    SynapseMapping,
    lowpass_mapping,
    synapse_loop_tf,
    synapse_mapping,
)
