"""A trained LMUFormer as a Nengo network that takes one frame per step.

`streaming_network` rebuilds a causal `.lmuformer` model from nengo objects:

- every conv/dense layer is a set of connections whose transforms hold its
  weights with the batch norm after it folded in (``scale * W``, bias
  ``scale * b + shift`` fed from a constant node);
- each kernel-3 causal conv is a delay line: two pass-through nodes fed
  through ``synapse=0`` (one step of delay each), so at step ``t`` the conv
  sees frames ``t-2, t-1, t``, and their zero initial state is the causal
  zero padding of the parallel model;
- the memory is a `.LegendreMemory` (exact form, one frame per step:
  ``theta`` frames is ``theta * dt`` seconds);
- ReLU is a `nengo.RectifiedLinear` population (gain 1, bias 0, fed at its
  neurons), GELU a node, LIF a `.DiscreteLIF` population
  (``beta=0.5, reset="zero"``, input scaled by 0.5, output the spike 0/1);
- the head accumulates the features (a node with a one-step recurrence),
  divides by the number of frames seen, and applies the dense layer.

Nothing in it looks ahead, so ``net.output`` at step ``t`` is the parallel
model's per-frame score at frame ``t``: one frame in, one decision out.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from scipy.special import erf

from nengo_lmu.discrete_lif import DiscreteLIF
from nengo_lmu.dl.lmuformer import (
    KERNEL,
    LIF_BETA,
    LIF_THRESHOLD,
    N_CONVS,
    U_THRESHOLD,
    check_lmuformer,
)
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.validation import check_choice, check_finite_array, check_positive


def fold_batch_norm(layer):
    """``(scale, shift)`` of a Keras ``BatchNormalization`` in inference mode."""
    gamma, beta, mean, var = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    scale = gamma / np.sqrt(var + layer.epsilon)
    return scale, beta - mean * scale


def gelu(x):
    """Exact GELU, ``x * Phi(x)`` (as ``tf.nn.gelu(approximate=False)``)."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class _Builder:
    """Adds the model's pieces to the network ``net`` (used while inside it)."""

    def __init__(self, model, dt):
        self.model = model
        self.dt = dt
        self.one = nengo.Node([1.0], label="bias")
        self.spiking_ensembles = []

    def weights(self, name):
        return [np.asarray(w, dtype=np.float64) for w in self.model.get_layer(name).get_weights()]

    def node(self, size, label):
        return nengo.Node(size_in=size, label=label)

    def activation(self, kind, size, label, threshold=LIF_THRESHOLD):
        """``(input target, input gain, output object)`` of an activation."""
        if kind == "relu":
            ens = nengo.Ensemble(
                size,
                1,
                neuron_type=nengo.RectifiedLinear(),
                gain=nengo.dists.Choice([1.0]),
                bias=nengo.dists.Choice([0.0]),
                label=label,
            )
            return ens.neurons, 1.0, ens.neurons
        if kind == "lif":
            ens = nengo.Ensemble(
                size,
                1,
                label=label,
                neuron_type=DiscreteLIF(
                    beta=LIF_BETA,
                    threshold=threshold,
                    amplitude=self.dt,
                    reset="zero",
                    learnable=False,
                ),
                gain=nengo.dists.Choice([1.0]),
                bias=nengo.dists.Choice([0.0]),
            )
            self.spiking_ensembles.append(ens)
            # spikingjelly's decay_input scales the input by 1 - beta
            return ens.neurons, 1.0 - LIF_BETA, ens.neurons
        if kind == "gelu":
            n = nengo.Node(lambda t, x: gelu(x), size_in=size, label=label)
            return n, 1.0, n
        n = self.node(size, label)
        return n, 1.0, n

    def affine(self, sources, kernels, bias, bn, kind, label, threshold=LIF_THRESHOLD):
        """``act(bn(sum_j sources[j] @ kernels[j] + bias))``; returns the output."""
        size = kernels[0].shape[1]
        scale, shift = (
            (np.ones(size), np.zeros(size))
            if bn is None
            else fold_batch_norm(self.model.get_layer(bn))
        )
        target, gain, out = self.activation(kind, size, label, threshold)
        for src, k in zip(sources, kernels):
            nengo.Connection(src, target, transform=gain * scale[:, None] * k.T, synapse=None)
        b = shift if bias is None else scale * bias + shift
        if np.any(b):
            nengo.Connection(self.one, target, transform=gain * b[:, None], synapse=None)
        return out

    def delay_line(self, src, size, label):
        """``[x[t-2], x[t-1], x[t]]`` as nengo objects (one step per frame)."""
        taps = [src]
        for k in range(KERNEL - 1):
            d = self.node(size, f"{label}.delay{k + 1}")
            nengo.Connection(taps[-1], d, synapse=0)
            taps.append(d)
        return taps[::-1]

    def conv(self, src, size, i, bn, kind):
        (kernel,) = self.weights(f"embed_conv{i}")
        taps = self.delay_line(src, size, f"embed{i}")
        label = f"embed{i}_lif" if kind == "lif" else f"embed{i}"
        return self.affine(taps, list(kernel), None, bn, kind, label)

    def dense(self, sources, name, bn, kind, threshold=LIF_THRESHOLD, sizes=None, label=None):
        kernel, bias = self.weights(name)
        if sizes is None:
            kernels = [kernel]
        else:
            split = np.cumsum(sizes)[:-1]
            kernels = np.split(kernel, split, axis=0)
        return self.affine(sources, kernels, bias, bn, kind, label or name, threshold)


def streaming_network(model, dt=0.001, label="LMUFormer", seed=None):
    """A causal `.lmuformer` model as a frame-by-frame `nengo.Network`.

    Parameters
    ----------
    model : LMUFormerModel
        A model made by `.lmuformer` with ``lookahead=0`` (trained or not);
        its current weights and batch-norm statistics are copied.
    dt : float
        The simulator step the network will run with (one frame per step).
    label, seed
        As for `nengo.Network`.

    Returns
    -------
    nengo.Network
        With attributes ``input`` (a node of size ``n_inputs``: connect one
        frame per step with ``synapse=None``), ``output`` (the per-frame
        class scores, ``n_classes``), ``spiking_ensembles`` (the
        `.DiscreteLIF` populations; empty unless spiking), ``config_dict``
        (the model's arguments) and ``dt``.

    Examples
    --------
    >>> from nengo_lmu.dl import lmuformer
    >>> model = lmuformer(n_inputs=8, n_classes=3, dim=8, seed=0)
    >>> net = streaming_network(model)
    >>> with net:
    ...     stim = nengo.Node(np.ones(8))
    ...     _ = nengo.Connection(stim, net.input, synapse=None)
    ...     p = nengo.Probe(net.output)
    >>> with nengo.Simulator(net, progress_bar=False) as sim:
    ...     sim.run_steps(20)
    >>> sim.data[p].shape
    (20, 3)
    """
    config = check_lmuformer(model)
    if config["lookahead"] != 0:
        raise ValidationError(
            f"must be 0 to stream (the model has lookahead={config['lookahead']}: "
            f"its output at frame t needs frames up to t+{config['lookahead']})",
            attr="lookahead",
        )
    dt = check_positive("dt", dt)
    spiking = config["spiking"]
    dim, n_in = config["dim"], config["n_inputs"]
    act = "lif" if spiking else "relu"
    net = nengo.Network(label=label, seed=seed)
    with net:
        b = _Builder(model, dt)
        net.input = b.node(n_in, "input")
        z, size = net.input, n_in
        for i in range(N_CONVS - 1):
            z = b.conv(z, size, i, f"embed_bn{i}", act)
            size = dim
        if spiking:
            r = b.conv(z, dim, N_CONVS - 1, f"embed_bn{N_CONVS - 1}", "lif")
        else:
            r = b.conv(z, dim, N_CONVS - 1, None, "linear")
        x = b.node(dim, "embed_out")
        nengo.Connection(z, x, synapse=None)
        nengo.Connection(r, x, synapse=None)

        for k in range(config["n_blocks"]):
            p = f"block{k}_"
            if spiking:
                u = b.dense(
                    [x], p + "wu", p + "bn_u", "lif", threshold=U_THRESHOLD, label=p + "u_lif"
                )
            else:
                u = b.dense([x], p + "wu", None, "relu")
            mem = LegendreMemory(
                config["order"], config["theta"] * dt, size_in=1, dt=dt, label=p + "memory"
            )
            nengo.Connection(u, mem.input, synapse=None)
            m = mem.output
            if spiking:
                m = b.affine([m], [np.eye(config["order"])], None, p + "bn_m", "lif", p + "m_lif")
            h = b.dense(
                [m, x],
                p + "wh",
                p + "bn_h" if spiking else None,
                act,
                sizes=[config["order"], dim],
                label=p + "h_" + act,
            )
            y = b.dense(
                [h],
                p + "proj",
                p + "bn_proj",
                "lif" if spiking else "linear",
                label=p + "proj_lif" if spiking else None,
            )
            x2 = b.node(dim, p + "lmu_out")
            nengo.Connection(x, x2, synapse=None)
            nengo.Connection(y, x2, synapse=None)
            z = b.dense(
                [x2],
                p + "mix1",
                p + "bn_mix1",
                "lif" if spiking else "gelu",
                label=p + "mix1_" + ("lif" if spiking else "gelu"),
            )
            y = b.dense([z], p + "mix2", p + "bn_mix2", act, label=p + "mix2_" + act)
            x = b.node(dim, p + "out")
            nengo.Connection(x2, x, synapse=None)
            nengo.Connection(y, x, synapse=None)

        # running mean: the sum over frames (one-step recurrence), divided by
        # the number of frames seen (step n of a run has t = (n + 1) dt)
        total = b.node(dim, "feature_sum")
        nengo.Connection(x, total, synapse=None)
        nengo.Connection(total, total, synapse=0)
        mean = nengo.Node(
            lambda t, s: s / max(round(t / dt), 1), size_in=dim, label="running_mean"
        )
        nengo.Connection(total, mean, synapse=None)
        net.output = b.dense([mean], "head", None, "linear")
        net.spiking_ensembles = b.spiking_ensembles
        net.config_dict = config
        net.dt = dt
    return net


def run_streaming(
    net, x, backend="nengo", minibatch_size=16, dtype=None, probe_spikes=False, simulator=None
):
    """Step a `streaming_network` through clips, one frame per step.

    Parameters
    ----------
    net : nengo.Network
        From `streaming_network`.
    x : array_like, shape (n, frames, n_inputs)
    backend : "nengo" or "nengo_dl"
        ``nengo.Simulator`` (one clip at a time, float64) or
        ``nengo_dl.Simulator`` (``minibatch_size`` clips at once).
    minibatch_size : int
        NengoDL's minibatch.
    dtype : "float32" or "float64", optional
        NengoDL's dtype (default: the model's).
    probe_spikes : bool
        Also return the spikes of ``net.spiking_ensembles``.
    simulator : callable, optional
        The simulator class of the ``"nengo"`` backend (``nengo.Simulator``).

    Returns
    -------
    ndarray, shape (n, frames, n_classes)
        ``net.output`` at every step; with ``probe_spikes`` a tuple
        ``(scores, [spikes of each ensemble, (n, frames, size)])``.
    """
    check_choice("backend", backend, ("nengo", "nengo_dl"))
    x = check_finite_array("x", x)
    n_in = net.config_dict["n_inputs"]
    if x.ndim != 3 or x.shape[2] != n_in:
        raise ValidationError(
            f"must have shape (n, frames, n_inputs={n_in}), got {x.shape}", attr="x"
        )
    n, frames = x.shape[:2]
    dt = net.dt
    clip = {"x": np.zeros((frames, n_in))}
    with nengo.Network() as outer:
        outer.networks.append(net)
        if backend == "nengo":
            inp = nengo.Node(
                lambda t: clip["x"][min(int(round(t / dt)) - 1, frames - 1)],
                size_out=n_in,
                label="frames",
            )
        else:
            inp = nengo.Node(np.zeros(n_in), label="frames")
        nengo.Connection(inp, net.input, synapse=None)
        p_out = nengo.Probe(net.output, synapse=None)
        p_spk = (
            [nengo.Probe(e.neurons, synapse=None) for e in net.spiking_ensembles]
            if probe_spikes
            else []
        )
    if backend == "nengo":
        scores = np.empty((n, frames, net.output.size_out))
        spikes = (
            [np.empty((n, frames, e.n_neurons)) for e in net.spiking_ensembles]
            if probe_spikes
            else []
        )
        simulator = nengo.Simulator if simulator is None else simulator
        with simulator(outer, dt=dt, progress_bar=False) as sim:
            for i in range(n):
                sim.reset()
                clip["x"] = x[i]
                sim.run_steps(frames)
                scores[i] = sim.data[p_out]
                for s, p in zip(spikes, p_spk):
                    s[i] = sim.data[p]
    else:
        import nengo_dl  # pylint: disable=import-outside-toplevel

        dtype = dtype or net.config_dict["dtype"]
        with outer:
            nengo_dl.configure_settings(dtype=dtype, stateful=False)
        mb = int(min(minibatch_size, n))
        pad = (-n) % mb
        xp = np.concatenate([x, np.zeros((pad,) + x.shape[1:])]) if pad else x
        with nengo_dl.Simulator(outer, dt=dt, minibatch_size=mb, progress_bar=False) as sim:
            data = sim.predict({inp: xp}, n_steps=frames, verbose=0)
        scores = data[p_out][:n]
        spikes = [data[p][:n] for p in p_spk]
    outer.networks.remove(net)
    return (scores, spikes) if probe_spikes else scores


__all__ = ["fold_batch_norm", "gelu", "streaming_network", "run_streaming"]
