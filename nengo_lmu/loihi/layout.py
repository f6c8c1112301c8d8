"""The Loihi form's layout: its pinned design choices (rates, intercepts,
evaluation points, solver, realiser, synapse, neurons) with the measurements
that chose them, the chip's host latency, and how the state populations
share their neurons (`noise_gains`, `allocate_neurons`).

`nengo_lmu.loihi.networks` builds `LoihiNeuralForm` from these; they are
pinned here, so a change of the plain network's defaults does not change
the chip's form.
"""

import numpy as np

#: Firing rates of the state populations (Hz) and their largest intercept
#: (relative to the radius). On the delay task (10 s, seed 0, 200 neurons per
#: dimension): 100-200 Hz with intercepts in [-0.75, 0.75] scored 0.133 on
#: nengo and 0.158 on the emulator; 200-400 Hz with the same intercepts 0.073
#: on nengo but 0.196 on the emulator, where 18% of the weights (up to 64% in a
#: block) round to zero on 8 bits ("simreal", without that rounding, scored
#: 0.099 on 3 s): the wide range of gains puts small weights next to large
#: ones. Intercepts in [-0.5, 0.5] keep them (4% lost) and scored 0.117 on
#: nengo, 0.121 on the emulator; [-0.25, 0.25] lost precision in the
#: representation instead (0.226 on both). With the evaluation points below
#: (stretch 1.25), [-0.6, 0.6] scored 0.073-0.090 on nengo (10 s, seeds 0-3)
#: but lost 20% of the population weights on 8 bits (max 61%; [-0.5, 0.5]:
#: 13%, max 37%, by `prepare`'s count) and the emulator followed less well
#: (3 s, seed 1: 0.122 against nengo's 0.096; [-0.5, 0.5]: 0.107 against
#: 0.118). docs/loihi.md has the runs.
LOIHI_MAX_RATES = (200, 400)
LOIHI_INTERCEPT = 0.5
#: Evaluation points: the sampled state trajectory stretched by this factor
#: (a tuple: the trajectory once per factor). The decoders are exact only over
#: the points, so a wide stretch spends them on states the memory never
#: reaches and a narrow one leaves a test input's larger states outside. On
#: nengo (10 s, 200 neurons per dimension, seeds 0/1/2): 1.5 scored
#: 0.117/0.131/0.101, 1.25 0.118/0.093/0.093, 1.0 0.187/0.077/0.148,
#: 0.9 0.231/0.100/0.192, (1.0, 1.5) 0.112/0.113/0.093. With 1.25 the
#: emulator scored 0.094/0.096/0.095/0.096 on seeds 0-3 (nengo
#: 0.118/0.093/0.093/0.088; with 1.5: 0.121/0.144/0.121/0.105).
LOIHI_EVAL_STRETCH = 1.25
#: Regularisation of the recurrent weights' solver (nengo's ``LstsqL2``):
#: less amplifies the spike noise (10 s, seed 1, stretch 1.5: reg 0.1 scored
#: 0.131, 0.03 0.230, 0.01 0.336); 0.2 with stretch 1.0 0.103 against 0.077.
LOIHI_REG = 0.1
#: The realisation of the Loihi form (see `LoihiNeuralForm`).
LOIHI_REALIZER = "scaled"
#: The populations' synapse (s): with tau = theta the mapped ``A'_00`` of a
#: Legendre memory is about 0 and rounds to zero on 8 bits; 0.05 keeps every
#: entry away from zero (docs/loihi.md has the measurements).
LOIHI_SYNAPSE = 0.05
#: Default neurons per state dimension of `LoihiLegendreMemory` (400 gained
#: little on the emulator, 2 s, seed 0: best-lag NRMSE 0.104 against 0.109,
#: for 8x the emulator's time; nengo-loihi splits such populations into
#: blocks whose small weights lose more on 8 bits).
LOIHI_N_NEURONS = 200
#: How the state populations share their neurons: ``"uniform"`` (each
#: ``n_neurons``) or ``"gain"`` (the same total, each population in proportion
#: to how strongly its decoding noise reaches the readout; see
#: `allocate_neurons`). ``"gain"`` barely helped on nengo (10 s, seed 1,
#: stretch 1.5: 0.1309 against 0.1312; seed 0, stretch 1.25: 0.112 against
#: 0.118): the error is not mostly independent spike noise (300 neurons per
#: dimension, seed 0, stretch 1.25: 0.112 too).
LOIHI_ALLOCATION = "uniform"
#: The smallest share of ``n_neurons`` a population gets under ``"gain"``.
LOIHI_MIN_SHARE = 0.25
#: Steps by which nengo-loihi's emulator delivers a chip value to the host
#: later than nengo.Simulator does (measured; the delay readout compensates).
CHIP_TO_HOST_STEPS = 2


def noise_gains(Ap, a, readout, slices, steps=5000):
    """How strongly each population's decoding noise reaches a readout.

    A population that decodes its state ``x_j`` with error ``e_j`` gives its
    targets ``A' (x + e)`` through a lowpass of step ratio ``a``, so the
    error enters the state as ``(1 - a) A' e`` and then runs through the
    discrete system ``x[t+1] = (a I + (1 - a) A') x[t]``. Returns, per slice,
    the H2 norm (root of the summed squared impulse response) from that
    slice's noise to ``readout @ x``, over ``steps`` steps.

    Examples
    --------
    >>> g = noise_gains(np.array([[0.5]]), 0.9, np.ones((1, 1)), [slice(0, 1)])
    >>> bool(np.isclose(g[0], 0.05 / np.sqrt(1 - 0.95 ** 2), rtol=1e-6))
    True
    """
    n = Ap.shape[0]
    Ad = a * np.eye(n) + (1 - a) * Ap
    x = (1 - a) * Ap  # the response to a unit error in each state dimension
    energy = np.zeros(n)
    for _ in range(steps):
        energy += np.sum((readout @ x) ** 2, axis=0)
        x = Ad @ x
    return np.array([np.sqrt(energy[sl].sum()) for sl in slices])


def allocate_neurons(gains, n_neurons, min_share=LOIHI_MIN_SHARE):
    """Share ``n_neurons * len(gains)`` neurons in proportion to ``gains``.

    With independent noise of variance ``c / n_j`` in population ``j``, the
    readout's noise ``sum_j g_j**2 c / n_j`` at a fixed total is smallest for
    ``n_j`` proportional to ``g_j``. Each population keeps at least
    ``min_share * n_neurons`` (a population also has a distortion error that
    this does not model); the counts sum to the total.

    Examples
    --------
    >>> allocate_neurons([3.0, 1.0, 0.0], 100)
    [206, 69, 25]
    """
    g = np.asarray(gains, dtype=float)
    total = n_neurons * len(g)
    floor = int(np.ceil(min_share * n_neurons))
    sizes = np.full(len(g), floor)
    free = np.ones(len(g), dtype=bool)
    # populations whose share falls under the floor keep the floor; the rest
    # share what is left in proportion to their gains
    while True:
        left = total - floor * np.sum(~free)
        share = np.where(free, left * g / max(g[free].sum(), 1e-300), floor)
        under = free & (share < floor)
        if not under.any():
            break
        free &= ~under
    sizes = np.floor(share).astype(int)
    order = np.argsort(-(share - sizes))
    sizes[order[: total - sizes.sum()]] += 1
    return sizes.tolist()


#: The numpydoc entries of the Loihi options, which `LoihiNeuralForm`
#: takes (keyword only) for both networks; their docstrings include it.
LOIHI_OPTIONS_DOC = """\
    input_pairs : int, optional
        On/off integrate-and-fire pairs of the host's input encoder per
        input dimension.
    input_rate : float, optional
        The encoder neurons' largest rate (Hz, at most 1000: a Loihi neuron
        spikes at most once a 1 ms step).
    max_rates : (float, float), optional
        ``(low, high)`` firing rates of the state populations (Hz,
        ``0 < low <= high <= 1000``; `LOIHI_MAX_RATES`).
    latency_steps : int, optional
        Steps by which the chip delivers a value to the host late
        (`CHIP_TO_HOST_STEPS`); ``state`` lags by `readout_lag_steps`.
    synapse : float or nengo.Lowpass, optional
        The populations' synapse (`LOIHI_SYNAPSE`; a Lowpass only).
    realizer : str or Realizer, optional
        The realisation of the system (`LOIHI_REALIZER`, ``"scaled"``).
    intercept : float, optional
        Intercepts are uniform in ``[-intercept, intercept]``, ``0 <=
        intercept < 1`` (`LOIHI_INTERCEPT`).
    allocation : {"uniform", "gain"}, optional
        ``"uniform"``: ``n_neurons`` per population; ``"gain"``: the same
        total shared by `allocate_neurons` in proportion to each
        population's `noise_gains` to the readout (`LOIHI_ALLOCATION`).
    host_readout : bool, optional
        False: no relay and no ``state`` readout, for a network that reads
        the populations on the chip.
"""
