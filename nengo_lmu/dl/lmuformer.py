"""LMUFormer [1]_ and spiking LMUFormer as Keras models trained in parallel.

The model maps ``(batch, frames, n_inputs)`` to per-frame class scores
``(batch, frames, n_classes)``:

1. **patch embedding**: four Conv1d layers (kernel 3, no bias) each followed
   by batch norm and an activation (ReLU, or LIF neurons when spiking), and
   a residual branch ``e = z + conv(z)`` (the spiking form puts batch norm
   and LIF after the residual conv, as the published spiking model does);
2. **LMU block(s)**: ``u = f(W_u x)`` (one scalar per frame), the Legendre
   memory of ``u`` (``order``, ``theta`` in frames) computed over the whole
   sequence at once (`.LegendreMemoryLayer`), ``h = f(W_h [m; x])``, a 1x1
   conv with batch norm, added to ``x``; then the conv **channel mixer**
   (1x1 conv to ``mlp_ratio * dim``, batch norm, GELU, 1x1 conv back, batch
   norm, ReLU; LIF in place of both activations when spiking), added to
   ``x``;
3. **head**: the running mean of the features over frames ``1..t`` and a
   dense layer, so the decision at frame ``t`` uses frames ``1..t`` only
   (as the published evaluation does, but without its look-ahead).

Causality. The published embedding pads every kernel-3 conv symmetrically,
so each one looks one frame into the future: five convs, five frames of
look-ahead (50 ms at a 10 ms hop) before a single frame can be streamed.
Here ``lookahead=0`` (the default) pads on the left only: the model is
causal and adds no latency. ``lookahead=k`` (``0 <= k <= 5``) gives the
first ``k`` convs the symmetric padding, so the output at frame ``t``
depends on frames up to ``t + k`` exactly: ``lookahead=5`` is the
published model (``k`` frames of latency). `streaming_network` converts
causal models only.

Deviations from the published code, each chosen so that the parallel
model and its frame-by-frame network compute the same thing: the
non-spiking embedding applies batch norm *before* ReLU (the published one
after), which lets the norm fold into the conv and keeps the zero padding
of a causal conv the same as an empty delay line; the LIF neuron fires on
``v > threshold`` (spikingjelly uses ``>=``), as `.DiscreteLIF` does.

Spiking neurons (`FrameLIF`): spikingjelly's LIF with ``tau=2``,
``decay_input`` and a hard reset to zero, one step per frame::

    v[t] = v[t-1] + (x[t] - v[t-1]) / 2 = 0.5 v[t-1] + 0.5 x[t]
    s[t] = v[t] > threshold;   v[t] = 0 where s[t]

which is ``DiscreteLIF(beta=0.5, threshold, reset="zero")`` with input
``J = 0.5 x``. Threshold 1, and 0.5 on the neurons that drive the memory.
Training runs the LIF along frames (a scan) with the ATan surrogate
gradient (`nengo_lmu.dl.surrogate.atan_spike`) and a detached reset.

Stacks. Everything here is written once against Keras 3 and ``keras.ops``
(`nengo_lmu.dl.compat`): it runs on Keras 3's JAX, PyTorch and TensorFlow
backends and on the locked stack's tf.keras 2.12. `nengo_lmu.dl.lmuformer_weights.save_lmuformer`
writes a file that every one of them reads (``load_lmuformer``).

References
----------
.. [1] Liu, Z., Datta, G., Li, A., & Beerel, P. A. (2024). LMUFormer: Low
   complexity yet powerful spiking model with Legendre memory units. ICLR.
"""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import (
    dynamic_size,
    gelu,
    keras,
    ops,
    register,
    set_random_seed,
    to_numpy,
)
from nengo_lmu.dl.memory import MODES
from nengo_lmu.dl.sequence_layers import LegendreMemoryLayer
from nengo_lmu.dl.surrogate import atan_spike
from nengo_lmu.validation import (
    check_bool,
    check_choice,
    check_int,
    check_positive,
)

#: Kernel width of the embedding's convolutions.
KERNEL = 3
#: Convolutions on the embedding's longest path (four + the residual one).
N_CONVS = 5
#: The most frames the embedding can look ahead (the published model).
PAPER_LOOKAHEAD = N_CONVS
#: Frames of input the embedding's output at one frame depends on.
RECEPTIVE_FIELD = 1 + (KERNEL - 1) * N_CONVS
#: Membrane decay per frame of the published LIF (tau = 2).
LIF_BETA = 0.5
LIF_THRESHOLD = 1.0
#: Threshold of the LIF neurons that drive the memory.
U_THRESHOLD = 0.5
BN_MOMENTUM = 0.9
BN_EPSILON = 1e-3
DTYPES = ("float32", "float64")


@register
class FrameLIF(keras.layers.Layer):
    """LIF neurons along the frame axis (hard reset to zero, see module doc).

    Parameters
    ----------
    threshold : float
        Firing threshold (> 0).
    beta : float
        Membrane decay per frame in [0, 1); the input is scaled by
        ``1 - beta`` (spikingjelly's ``decay_input``).
    surrogate_alpha : float
        Width of the ATan surrogate gradient.

    Examples
    --------
    >>> lif = FrameLIF(threshold=1.0)
    >>> to_numpy(lif(np.array([[[3.0], [0.0], [3.0]]], dtype="float32"))).ravel()
    array([1., 0., 1.], dtype=float32)
    """

    def __init__(self, threshold=LIF_THRESHOLD, beta=LIF_BETA, surrogate_alpha=2.0, **kwargs):
        super().__init__(**kwargs)
        self.threshold = check_positive("threshold", threshold, obj=self)
        beta = float(beta)
        if not 0.0 <= beta < 1.0:
            raise ValidationError(f"must be in [0, 1), got {beta}", attr="beta", obj=self)
        self.beta = beta
        self.surrogate_alpha = check_positive("surrogate_alpha", surrogate_alpha, obj=self)

    def call(self, x):
        beta, gain = self.beta, 1.0 - self.beta
        threshold, alpha = self.threshold, self.surrogate_alpha

        def step(v, x_t):
            v = beta * v + gain * x_t
            s = atan_spike(v - threshold, alpha)
            # the reset is detached from the graph (snnTorch / spikingjelly)
            return v * (1 - ops.stop_gradient(s)), s

        xs = ops.transpose(x, (1, 0, 2))
        _, spikes = ops.scan(step, ops.zeros_like(xs[0]), xs)
        return ops.transpose(spikes, (1, 0, 2))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            threshold=self.threshold, beta=self.beta, surrogate_alpha=self.surrogate_alpha
        )
        return config


@register
class RunningMean(keras.layers.Layer):
    """Mean over frames ``1..t`` at every frame ``t`` (causal)."""

    def call(self, x):
        n = ops.arange(1, dynamic_size(x, 1) + 1, dtype=self.compute_dtype)
        return ops.cumsum(x, axis=1) / n[None, :, None]

    def compute_output_shape(self, input_shape):
        return input_shape


class LMUFormerModel(keras.Model):
    """The Keras model `lmuformer` returns (a functional model).

    It checks its input before `predict`, `evaluate`, `fit` and calls: the
    feature count must be ``n_inputs``, sequences at least `RECEPTIVE_FIELD`
    frames long, values finite. ``lmuformer_config`` holds the arguments it
    was made with (`streaming_network` and `load_lmuformer` read them).
    """

    def __init__(self, *args, lmuformer_config=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lmuformer_config = dict(lmuformer_config or {})

    def check_input(self, x):
        """Raise `~nengo.exceptions.ValidationError` if ``x`` cannot be run."""
        if x is None or isinstance(x, dict):
            return
        if not isinstance(x, (list, tuple)) and not hasattr(x, "shape"):
            return  # a dataset or generator: checked by Keras as it runs
        if isinstance(x, (list, tuple)):
            x = np.asarray(x)
        shape = tuple(getattr(x, "shape", ()))
        n_inputs = self.lmuformer_config["n_inputs"]
        if len(shape) != 3:
            raise ValidationError(
                f"must have shape (batch, frames, n_inputs={n_inputs}), got shape {shape}",
                attr="x",
                obj=self,
            )
        if shape[2] is not None and shape[2] != n_inputs:
            raise ValidationError(
                f"has {shape[2]} features per frame, but the model takes n_inputs={n_inputs}",
                attr="n_inputs",
                obj=self,
            )
        n_frames = self.lmuformer_config.get("n_frames")
        if shape[1] is not None and n_frames is not None and shape[1] != n_frames:
            raise ValidationError(
                f"has {shape[1]} frames, but the model takes n_frames={n_frames}",
                attr="frames",
                obj=self,
            )
        if shape[1] is not None and shape[1] < RECEPTIVE_FIELD:
            raise ValidationError(
                f"has {shape[1]} frames, fewer than the patch embedding's "
                f"receptive field of {RECEPTIVE_FIELD} frames",
                attr="frames",
                obj=self,
            )
        if isinstance(x, np.ndarray) and not np.all(np.isfinite(x)):
            raise ValidationError("contains NaN or inf", attr="x", obj=self)

    def __call__(self, inputs, *args, **kwargs):
        self.check_input(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self.check_input(x)
        return super().predict(x, *args, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        self.check_input(x)
        return super().evaluate(x, *args, **kwargs)

    def fit(self, x=None, *args, **kwargs):
        self.check_input(x)
        return super().fit(x, *args, **kwargs)


def check_lookahead(lookahead, obj=None):
    """A look-ahead in frames: an integer in ``[0, PAPER_LOOKAHEAD]``."""
    if (
        isinstance(lookahead, (int, np.integer))
        and not isinstance(lookahead, bool)
        and lookahead < 0
    ):
        raise ValidationError(
            f"must be >= 0 frames (a model cannot look into the past instead), got {lookahead}",
            attr="lookahead",
            obj=obj,
        )
    return check_int("lookahead", lookahead, obj=obj, minimum=0, maximum=PAPER_LOOKAHEAD)


def conv_lookaheads(lookahead):
    """Per-conv look-ahead (0 or 1), main convs first, the residual conv last."""
    return [1 if i < lookahead else 0 for i in range(N_CONVS)]


def lmuformer(
    n_inputs,
    n_classes,
    dim=64,
    order=None,
    theta=100.0,
    mlp_ratio=4,
    n_blocks=1,
    spiking=False,
    lookahead=0,
    memory_mode="chunked",
    n_frames=None,
    surrogate_alpha=2.0,
    dtype="float32",
    seed=None,
    name="lmuformer",
):
    """An LMUFormer (or spiking LMUFormer) as a Keras model.

    Parameters
    ----------
    n_inputs : int
        Features per frame (e.g. mel bins).
    n_classes : int
        Classes scored at every frame.
    dim : int
        Channels of the embedding and the blocks.
    order : int, optional
        Order of the Legendre memory; ``dim`` by default (``2 * dim`` when
        spiking), as in the published models.
    theta : float
        Memory window in frames (> 1).
    mlp_ratio : int
        Expansion of the channel mixer.
    n_blocks : int
        LMU blocks (each followed by a channel mixer).
    spiking : bool
        Spiking LMUFormer (`FrameLIF` neurons in place of the activations).
    lookahead : int
        Frames the embedding looks ahead, 0 (causal, the default) to 5 (the
        published symmetric padding). It adds that many frames of latency.
    memory_mode : "chunked", "fft" or "recurrent"
        How the memory is computed over the sequence (`.LegendreMemoryLayer`;
        ``"fft"`` needs ``n_frames``).
    n_frames : int, optional
        Fix the number of frames (any length >= `RECEPTIVE_FIELD` if None).
    surrogate_alpha : float
        Width of the ATan surrogate gradient of the spiking neurons.
    dtype : "float32" or "float64"
    seed : int, optional
        Seeds the initial weights.
    name : str

    Returns
    -------
    LMUFormerModel
        Input ``(batch, frames, n_inputs)``, output per-frame class scores
        (logits) ``(batch, frames, n_classes)``.

    Examples
    --------
    >>> model = lmuformer(n_inputs=20, n_classes=5, dim=16, seed=0)
    >>> model.predict(np.zeros((2, 30, 20)), verbose=0).shape
    (2, 30, 5)
    """
    n_inputs = check_int("n_inputs", n_inputs)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    dim = check_int("dim", dim)
    spiking = check_bool("spiking", spiking)
    order = (2 * dim if spiking else dim) if order is None else check_int("order", order)
    theta = check_positive("theta", theta)
    if theta <= 1:
        raise ValidationError(f"must be > 1 frame, got {theta}", attr="theta")
    mlp_ratio = check_int("mlp_ratio", mlp_ratio)
    n_blocks = check_int("n_blocks", n_blocks)
    lookahead = check_lookahead(lookahead)
    check_choice("memory_mode", memory_mode, MODES)
    if n_frames is not None:
        n_frames = check_int("n_frames", n_frames, minimum=RECEPTIVE_FIELD)
    elif memory_mode == "fft":
        raise ValidationError("must be given for memory_mode='fft'", attr="n_frames")
    check_choice("dtype", dtype, DTYPES)
    surrogate_alpha = check_positive("surrogate_alpha", surrogate_alpha)
    if seed is not None:
        set_random_seed(check_int("seed", seed, minimum=0))
    config = dict(
        n_inputs=n_inputs,
        n_classes=n_classes,
        dim=dim,
        order=order,
        theta=theta,
        mlp_ratio=mlp_ratio,
        n_blocks=n_blocks,
        spiking=spiking,
        lookahead=lookahead,
        memory_mode=memory_mode,
        n_frames=n_frames,
        surrogate_alpha=surrogate_alpha,
        dtype=dtype,
        seed=seed,
        name=name,
    )
    L = keras.layers
    kw = dict(dtype=dtype)

    def bn(x, name):
        return L.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name, **kw)(x)

    def act(x, kind, name, threshold=LIF_THRESHOLD):
        if spiking:
            return FrameLIF(threshold, LIF_BETA, surrogate_alpha, name=name + "_lif", **kw)(x)
        if kind == "gelu":
            return L.Activation(gelu, name=name + "_gelu", **kw)(x)
        return L.ReLU(name=name + "_relu", **kw)(x)

    def conv(x, i, ahead):
        x = L.ZeroPadding1D((KERNEL - 1 - ahead, ahead), name=f"embed_pad{i}", **kw)(x)
        return L.Conv1D(dim, KERNEL, use_bias=False, name=f"embed_conv{i}", **kw)(x)

    inp = L.Input((n_frames, n_inputs), dtype=dtype, name="frames")
    ahead = conv_lookaheads(lookahead)
    z = inp
    for i in range(N_CONVS - 1):
        z = act(bn(conv(z, i, ahead[i]), f"embed_bn{i}"), "relu", f"embed{i}")
    r = conv(z, N_CONVS - 1, ahead[-1])
    if spiking:
        r = act(bn(r, f"embed_bn{N_CONVS - 1}"), "relu", f"embed{N_CONVS - 1}")
    x = L.Add(name="embed_out", **kw)([z, r])

    for b in range(n_blocks):
        p = f"block{b}_"
        u = L.Dense(1, name=p + "wu", **kw)(x)
        if spiking:
            u = act(bn(u, p + "bn_u"), "", p + "u", threshold=U_THRESHOLD)
        else:
            u = L.ReLU(name=p + "u_relu", **kw)(u)
        m = LegendreMemoryLayer(
            order, theta, mode=memory_mode, return_sequences=True, name=p + "memory", **kw
        )(u)
        if spiking:
            m = act(bn(m, p + "bn_m"), "", p + "m")
        h = L.Dense(dim, name=p + "wh", **kw)(L.Concatenate(name=p + "mx", **kw)([m, x]))
        h = act(bn(h, p + "bn_h"), "", p + "h") if spiking else L.ReLU(name=p + "h_relu", **kw)(h)
        y = bn(L.Dense(dim, name=p + "proj", **kw)(h), p + "bn_proj")
        if spiking:
            y = act(y, "", p + "proj")
        x = L.Add(name=p + "lmu_out", **kw)([x, y])
        z = act(
            bn(L.Dense(mlp_ratio * dim, name=p + "mix1", **kw)(x), p + "bn_mix1"),
            "gelu",
            p + "mix1",
        )
        y = act(bn(L.Dense(dim, name=p + "mix2", **kw)(z), p + "bn_mix2"), "relu", p + "mix2")
        x = L.Add(name=p + "out", **kw)([x, y])

    x = RunningMean(name="running_mean", **kw)(x)
    out = L.Dense(n_classes, name="head", **kw)(x)
    return LMUFormerModel(inputs=inp, outputs=out, name=name, lmuformer_config=config)


def check_lmuformer(model, attr="model"):
    """Raise unless ``model`` was made by `lmuformer`; return its config."""
    config = getattr(model, "lmuformer_config", None)
    if not isinstance(model, LMUFormerModel) or not config:
        raise ValidationError(
            f"must be a model made by nengo_lmu.dl.lmuformer, got {type(model).__name__}",
            attr=attr,
        )
    return dict(config)


def final_scores_model(model):
    """A Keras model giving only the last frame's scores (for training)."""
    check_lmuformer(model)
    last = keras.layers.Lambda(lambda s: s[:, -1], name="last_frame")(model.output)
    return keras.Model(model.input, last, name=model.name + "_final")


def count_trainable(model):
    """Trainable parameters of a Keras model."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def _weight_layers(model):
    return [
        lay for lay in model.layers if isinstance(lay, (keras.layers.Conv1D, keras.layers.Dense))
    ]


def operation_counts(model, x=None, batch_size=64):
    """Operations per inference (one whole clip), as seed 001's OPs table.

    Non-spiking: multiply-accumulates (MACs) of every conv, dense layer and
    memory step, per frame times the frames (batch norm is folded into the
    layers before it, so it costs nothing). Spiking: layers fed with spikes
    (or integer sums of spikes) cost one accumulate (AC) per input spike and
    weight it reaches, counted from the spikes measured on ``x``; layers
    fed with real values (the first conv on the features, the memory's
    ``q x q`` recurrence, the head on the running mean) cost MACs.

    Parameters
    ----------
    model : LMUFormerModel
    x : array_like, shape (n, frames, n_inputs)
        Clips; needed for the spiking count (and for the number of frames).
    batch_size : int

    Returns
    -------
    dict
        ``macs``, ``acs`` (per clip, averaged over ``x``), ``frames``,
        ``params`` (trainable), ``spike_rate`` (mean spikes per neuron and
        frame of the spiking layers; 0 when not spiking).
    """
    config = check_lmuformer(model)
    frames = 100 if x is None else int(np.shape(x)[1])
    q = config["order"]
    layers = _weight_layers(model)
    macs = acs = 0.0
    rate = 0.0
    mem = config["n_blocks"] * (q * q + q)
    if not config["spiking"]:
        per_frame = sum(int(np.prod(lay.kernel.shape)) for lay in layers) + mem
        macs = per_frame * frames + config["dim"] * frames  # + the running mean
    else:
        if x is None:
            raise ValidationError("is needed to count spikes of a spiking model", attr="x")
        model.check_input(x)
        lifs = [lay for lay in model.layers if isinstance(lay, FrameLIF)]
        mems = [lay for lay in model.layers if isinstance(lay, LegendreMemoryLayer)]
        taps = [lay.input for lay in layers] + [lay.input for lay in mems]
        probe = keras.Model(model.input, taps + [lay.output for lay in lifs])
        sums = np.zeros(len(taps))
        n_spikes = 0.0
        n_clips = len(x)
        for start in range(0, n_clips, batch_size):
            outs = probe(
                np.asarray(x[start : start + batch_size], dtype=config["dtype"]), training=False
            )
            for k in range(len(taps)):
                sums[k] += float(np.abs(to_numpy(outs[k])).sum())
            n_spikes += sum(float(to_numpy(o).sum()) for o in outs[len(taps) :])
        sums /= n_clips
        for k, lay in enumerate(layers):
            fan_out = int(np.prod(lay.kernel.shape)) // int(lay.kernel.shape[-2])
            if lay.name in ("embed_conv0", "head"):
                macs += frames * int(np.prod(lay.kernel.shape))
            else:
                acs += sums[k] * fan_out
        # the memory: B u costs q ACs per spike of u, Ad m costs q*q MACs per
        # frame (its state is real-valued); the running mean adds dim per frame
        acs += sum(sums[len(layers) :]) * q
        macs += config["n_blocks"] * q * q * frames + config["dim"] * frames
        n_neurons = sum(int(lay.output.shape[-1]) for lay in lifs)
        rate = n_spikes / n_clips / (n_neurons * frames)
    return dict(
        macs=float(macs),
        acs=float(acs),
        frames=frames,
        params=count_trainable(model),
        spike_rate=float(rate),
    )


__all__ = [
    "KERNEL",
    "N_CONVS",
    "PAPER_LOOKAHEAD",
    "RECEPTIVE_FIELD",
    "FrameLIF",
    "RunningMean",
    "LMUFormerModel",
    "lmuformer",
    "check_lookahead",
    "conv_lookaheads",
    "check_lmuformer",
    "final_scores_model",
    "count_trainable",
    "operation_counts",
]
