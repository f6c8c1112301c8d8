"""Every workaround for nengo-loihi 1.1, in one place.

Each function says what nengo-loihi 1.1 does and why nengo_lmu works around
it; when nengo-loihi changes, this is the module to revisit.

- `nengo_loihi_module`: nengo-loihi is an optional extra; it is imported
  where it is used, with a `.MissingExtraError` naming the extra if absent,
  and with `patch_numpy2` applied.
- `patch_numpy2`: nengo-loihi 1.1 calls ``np.array(x, copy=False)``, which
  numpy 2 turned from "copy if needed" into "never copy" (a ``ValueError``
  whenever a copy is needed, e.g. for every float64 weight matrix). On
  numpy 2 its modules get a numpy whose ``array`` reads ``copy=False`` as
  numpy 1 did (``copy=None``); nothing else changes.
- `patch_nan_fill`: nengo-loihi 1.1's emulator makes its compartments'
  integer parameter arrays (``target="sim"``) with ``np.full(n, np.nan,
  dtype=np.int32)`` and then overwrites every entry; numpy >= 1.24 warns
  "RuntimeWarning: invalid value encountered in cast" for that cast on
  every emulator build. Its emulator module gets a numpy whose ``full``
  fills an integer array given NaN with the dtype's smallest value (what
  the cast gives on x86) without the cast.
- `ensure_params`: ``on_chip`` and ``block_shape`` exist only after
  ``nengo_loihi.add_params``, and nengo-loihi reads them only from the
  top-level network (a subnetwork's ``on_chip`` is lifted to it).
- `new_model`: a builder model with our ``decode_tau`` (nengo-loihi takes it
  only as a model attribute).
- `BUILD_KWARGS`: ``remove_passthrough=False``, since nengo-loihi 1.1's
  passthrough removal loses a probed node that only relays an ensemble's
  decoded output (a neural memory's delay readout read 0).
- `host_filters_on_chip`: nengo-loihi filters every host input on the chip
  with ``Lowpass(decode_tau)`` and also applies the connection's own
  synapse on the host; where the two are the same filter, the host copy is
  dropped for the build.
- `count_input_spikes` and `fanout`: nengo-loihi hands each step's host
  spikes to the emulator once and forgets them, so they are counted on the
  way (a wrapper around each input's ``spike_idxs``).
- `expected_warnings`: the warnings nengo-loihi gives for what `prepare`
  measures and reports itself, filtered by category and message.
"""

import contextlib
import types
import warnings

import nengo
import numpy as np

from nengo_lmu.info import require_extra
from nengo_lmu.loihi.hardware import ensemble_of

#: Passed to every ``nengo_loihi.Simulator`` that nengo_lmu builds.
BUILD_KWARGS = {"remove_passthrough": False}

#: ``(category, message regex, why it is expected)`` of the warnings that
#: `expected_warnings` filters. "Lost N extra bits in weight rounding" is the
#: 8-bit discretisation of weights, which `prepare` measures per block
#: (`weight_precision`) and reports; nengo-loihi's time-constant warnings
#: (``tau_s is already set ...``) are not filtered: `prepare` reports the
#: same conflicts, and a user who builds without it should see them.
EXPECTED_WARNINGS = (
    (
        UserWarning,
        r"Lost \d+ extra bits in weight rounding",
        "8-bit weights, measured and reported by prepare",
    ),
)


@contextlib.contextmanager
def expected_warnings():
    """Ignore `EXPECTED_WARNINGS` (and only those) inside the block."""
    with warnings.catch_warnings():
        for category, message, _ in EXPECTED_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        yield


def nengo_loihi_module():
    """nengo-loihi with `patch_numpy2` applied.

    Use it in place of ``import nengo_loihi`` to build a
    ``nengo_loihi.Simulator`` yourself on numpy 2 (every function of
    `nengo_lmu.loihi` does). Raises `.MissingExtraError` naming the ``loihi``
    extra if nengo-loihi is not installed.
    """
    with warnings.catch_warnings():
        # nengo-loihi 1.1 warns at import that it "has not been tested with"
        # any nengo after 3.2; nengo_lmu's tests run it on nengo 4.1.
        warnings.filterwarnings("ignore", message=r"This version of `nengo_loihi` has not")
        require_extra("loihi", "nengo_lmu.loihi")
        import nengo_loihi

    patch_numpy2(nengo_loihi)
    patch_nan_fill(nengo_loihi)
    return nengo_loihi


#: nengo-loihi 1.1's modules that call ``np.array(..., copy=False)``.
NUMPY2_MODULES = ("nengo_loihi.block", "nengo_loihi.neurons")


class _Numpy1Copy(types.ModuleType):
    """numpy, except that ``array(x, copy=False)`` copies only if needed."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def array(obj, *args, copy=True, **kwargs):
        return np.array(obj, *args, copy=None if copy is False else copy, **kwargs)


def patch_numpy2(nengo_loihi):
    """Give nengo-loihi's `NUMPY2_MODULES` numpy 1's ``copy=False`` on numpy 2.

    Does nothing on numpy 1 or if already applied. Returns the names of the
    modules patched by this call.
    """
    if int(np.__version__.split(".")[0]) < 2:
        return []
    import importlib

    patched = []
    for name in NUMPY2_MODULES:
        module = importlib.import_module(name)
        if not isinstance(module.np, _Numpy1Copy):
            module.np = _Numpy1Copy("numpy")
            patched.append(name)
    return patched


#: nengo-loihi 1.1's modules that fill integer arrays with NaN.
NAN_FILL_MODULES = ("nengo_loihi.emulator.interface",)


class _IntegerNanFill(types.ModuleType):
    """numpy, except that ``full(shape, nan, dtype=<integer>)`` fills with the
    integer dtype's smallest value instead of casting NaN (which warns)."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def full(shape, fill_value, dtype=None, **kwargs):
        if (
            dtype is not None
            and np.issubdtype(dtype, np.integer)
            and isinstance(fill_value, float)
            and np.isnan(fill_value)
        ):
            fill_value = np.iinfo(dtype).min
        return np.full(shape, fill_value, dtype=dtype, **kwargs)


def patch_nan_fill(nengo_loihi):
    """Give nengo-loihi's `NAN_FILL_MODULES` a ``np.full`` that does not cast
    NaN to an integer (see the module's notes). Does nothing if already
    applied; returns the names of the modules patched by this call."""
    import importlib

    patched = []
    for name in NAN_FILL_MODULES:
        module = importlib.import_module(name)
        if not isinstance(module.np, _IntegerNanFill):
            module.np = _IntegerNanFill("numpy")
            patched.append(name)
    return patched


def _has_params(network):
    try:
        network.config[nengo.Ensemble].on_chip  # noqa: B018 - probe the param
    except (AttributeError, KeyError, nengo.exceptions.ConfigError):
        return False
    return True


def ensure_params(network):
    """Add nengo-loihi's config parameters to ``network`` if it lacks them,
    and lift its subnetworks' ``on_chip`` settings to it.

    nengo-loihi reads ``on_chip`` only from the top-level network's config,
    so a subnetwork that keeps an ensemble on the host in its own config
    (as `LoihiLegendreMemory` does with its input encoder) would be placed
    on the chip. A setting in the top-level config wins.
    """
    nengo_loihi = nengo_loihi_module()

    if not _has_params(network):
        nengo_loihi.add_params(network)
    for sub in network.all_networks:
        if not _has_params(sub):
            continue
        for ens in sub.ensembles:
            if sub.config[ens].on_chip is not None and network.config[ens].on_chip is None:
                network.config[ens].on_chip = sub.config[ens].on_chip


def new_model(dt, decode_tau):
    """A ``nengo_loihi.builder.Model`` with ``decode_tau`` set."""
    nengo_loihi = nengo_loihi_module()

    model = nengo_loihi.builder.Model(dt=dt)
    model.decode_tau = decode_tau
    return model


@contextlib.contextmanager
def host_filters_on_chip(network, decode_tau):
    """Leave a host-to-chip connection's ``Lowpass(decode_tau)`` to the chip.

    nengo-loihi filters every host input on the chip with
    ``Lowpass(decode_tau)`` and applies the connection's own synapse on the
    host as well. Where that synapse is the same filter, the model asked for
    it once: the host copy is dropped for the build and restored after.
    Host neurons are different: their spikes are sent as they are and the
    connection's synapse already runs on the chip, so it is kept.
    """
    config = network.config
    moved = []
    try:
        for conn in network.all_connections:
            post = ensemble_of(conn.post_obj)
            pre = ensemble_of(conn.pre_obj)
            post_chip = post is not None and config[post].on_chip is not False
            pre_chip = pre is not None and config[pre].on_chip is not False
            if (
                post_chip
                and not pre_chip
                and not isinstance(conn.pre_obj, nengo.ensemble.Neurons)
                and type(conn.synapse) is nengo.Lowpass
                and np.isclose(conn.synapse.tau, decode_tau)
            ):
                moved.append((conn, conn.synapse))
                conn.synapse = None
        yield moved
    finally:
        for conn, syn in moved:
            conn.synapse = syn


def fanout(axons, n):
    """Synapses reached by a spike of each of ``n`` sources through ``axons``."""
    fan = np.zeros(n, dtype=np.int64)
    for axon in axons:
        if not hasattr(axon.target, "axon_weights_indices"):
            continue
        ids = axon.map_axon(np.arange(n))
        atoms = axon.map_atoms(np.arange(n))
        for k, (a, atom) in enumerate(zip(ids, atoms)):
            if a >= 0:
                w, _ = axon.target.axon_weights_indices(a, atom=atom)
                fan[k] += np.count_nonzero(w)
    return fan


#: The attribute under which `count_input_spikes` keeps an input's tally.
TALLY = "nengo_lmu_tally"


def count_input_spikes(sim):
    """Count the host's spikes as the emulator delivers them to the chip.

    nengo-loihi hands each step's host spikes to the emulator once and then
    forgets them, so they are counted on the way (a wrapper around each
    input's ``spike_idxs``); the tally is ``getattr(input, TALLY)``.
    """
    for inp in sim.model.inputs:
        fan = fanout(inp.axons, inp.n_neurons)
        tally = dict(spikes=0, synaptic_ops=0)
        setattr(inp, TALLY, tally)
        original = inp.spike_idxs

        def counted(ti, original=original, fan=fan, tally=tally):
            idxs = original(ti)
            idx = np.asarray(idxs, dtype=np.int64).ravel()
            tally["spikes"] += idx.size
            tally["synaptic_ops"] += int(fan[idx].sum()) if idx.size else 0
            return idxs

        inp.spike_idxs = counted
