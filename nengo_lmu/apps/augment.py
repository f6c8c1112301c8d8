"""Data augmentation of log-mel features, as in the LMUFormer's training recipe.

The LMUFormer seed trains on Speech Commands with mixup, SpecAugment-style
time and frequency masking, additive noise and a random time roll of the
features. Here each piece is a pure numpy function of a batch of log-mel
features ``x`` of shape ``(batch, frames, mels)`` (natural-log mel powers,
as `nengo_lmu.apps.audio.log_mel` makes them) and a seeded
`numpy.random.RandomState`, so a training run sees the same augmented batches
for the same seed:

- `time_roll`: each clip rolled (or shifted) along the frames,
- `add_noise`: noise added in the mel-power domain at a given SNR,
- `time_mask` and `freq_mask`: SpecAugment's masks,
- `mixup`: pairs of clips mixed (in the mel-power domain) with soft labels.

`Augmentation` chains them for one batch; `augmented_batches` yields an
epoch of augmented batches. No TensorFlow here.
"""

from dataclasses import dataclass

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_int


def _batch(x, attr="x"):
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValidationError(
            f"must be log-mel features of shape (batch, frames, mels), got shape {x.shape}",
            attr=attr,
        )
    return x


def _check_rng(rng):
    if not isinstance(rng, np.random.RandomState):
        raise ValidationError(
            f"must be a numpy.random.RandomState, got {type(rng).__name__}", attr="rng"
        )
    return rng


def time_roll(x, max_shift, rng, mode="roll", fill=None):
    """Move each clip along the frames by a random whole number of frames.

    Parameters
    ----------
    x : ndarray, shape (batch, frames, mels)
    max_shift : int
        Each clip moves by ``s`` frames, ``s`` uniform in
        ``[-max_shift, max_shift]`` (positive: later).
    rng : numpy.random.RandomState
        Draws the ``batch`` shifts (one ``randint`` call).
    mode : "roll" or "shift"
        ``"roll"`` wraps frames around the clip's ends (the seed's
        ``torch.roll``); ``"shift"`` fills the frames moved in with ``fill``.
    fill : float, optional
        For ``"shift"``: the value of new frames (each clip's minimum by
        default, i.e. its quietest level).

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.
    """
    x = _batch(x)
    max_shift = check_int("max_shift", max_shift, minimum=0)
    rng = _check_rng(rng)
    if mode not in ("roll", "shift"):
        raise ValidationError(f"must be 'roll' or 'shift', got {mode!r}", attr="mode")
    n, frames = x.shape[:2]
    shifts = rng.randint(-max_shift, max_shift + 1, size=n)
    # out[i, t] = x[i, t - s_i]
    src = (np.arange(frames)[None, :] - shifts[:, None]) % frames
    out = np.take_along_axis(x, src[:, :, None], axis=1)
    if mode == "shift":
        moved_in = (np.arange(frames)[None, :] - shifts[:, None] < 0) | (
            np.arange(frames)[None, :] - shifts[:, None] >= frames
        )
        value = x.min(axis=(1, 2), keepdims=True) if fill is None else np.asarray(fill)
        out = np.where(moved_in[:, :, None], value, out).astype(x.dtype)
    return out


def _snr_per_clip(snr_db, n, rng):
    snr = np.asarray(snr_db, dtype=np.float64)
    if snr.ndim == 0:
        return np.full(n, float(snr))
    if snr.shape != (2,) or not snr[0] <= snr[1]:
        raise ValidationError(
            f"must be a number or a (low, high) range in dB, got {snr_db}", attr="snr_db"
        )
    return rng.uniform(snr[0], snr[1], size=n)


def add_noise(x, snr_db, rng, fluctuation=1.0, floor=1e-6):
    """Add noise to log-mel features at a signal-to-noise ratio.

    The noise is added to the mel powers: ``log(exp(x) - floor + noise) `` in
    effect, where each clip's noise has mean power ``P / 10**(snr/10)`` in
    every mel band and frame, ``P`` being the clip's mean mel power (over
    frames and bands). So ``snr`` is the ratio, in dB, of the clip's mean
    power to the noise's, both measured in the features' own mel bands.

    Parameters
    ----------
    x : ndarray, shape (batch, frames, mels)
        ``log(mel power + floor)`` (`nengo_lmu.apps.audio.log_mel`).
    snr_db : float or (float, float)
        The SNR in dB, or a range to draw each clip's SNR from uniformly.
    rng : numpy.random.RandomState
        Draws each clip's SNR (if a range), then the fluctuation.
    fluctuation : float
        Relative spread of the noise power per frame and band: the power is
        multiplied by a Gamma variable of mean 1 and standard deviation
        ``fluctuation`` (0: a flat noise floor, exactly at the SNR).
    floor : float
        The constant `log_mel` added before the log.

    Returns
    -------
    ndarray
        Same shape and dtype as ``x``.
    """
    x = _batch(x)
    rng = _check_rng(rng)
    if fluctuation < 0:
        raise ValidationError(f"must be >= 0, got {fluctuation}", attr="fluctuation")
    snr = _snr_per_clip(snr_db, len(x), rng)
    x64 = x.astype(np.float64)
    power = np.maximum(np.exp(x64) - floor, 0.0)
    noise = power.mean(axis=(1, 2)) / 10 ** (snr / 10)
    noise = np.broadcast_to(noise[:, None, None], x.shape)
    if fluctuation > 0:
        k = 1.0 / fluctuation**2
        noise = noise * rng.gamma(k, 1.0 / k, size=x.shape)
    return np.log(power + noise + floor).astype(x.dtype)


def _mask(x, axis, n_masks, max_width, rng, fill):
    x = _batch(x)
    n_masks = check_int("n_masks", n_masks, minimum=0)
    max_width = check_int("max_width", max_width, minimum=0)
    rng = _check_rng(rng)
    n, size = x.shape[0], x.shape[axis]
    masked = np.zeros((n, size), dtype=bool)
    for _ in range(n_masks):
        width = rng.randint(0, min(max_width, size) + 1, size=n)
        start = rng.randint(0, size - width + 1)
        pos = np.arange(size)[None, :]
        masked |= (pos >= start[:, None]) & (pos < (start + width)[:, None])
    value = x.mean(axis=(1, 2), keepdims=True) if fill is None else np.asarray(fill)
    where = masked[:, :, None] if axis == 1 else masked[:, None, :]
    return np.where(where, value, x).astype(x.dtype)


def time_mask(x, n_masks, max_width, rng, fill=None):
    """SpecAugment's time masks: ``n_masks`` runs of frames set to ``fill``.

    Each mask's width is uniform in ``[0, max_width]`` frames and its start
    uniform over the positions where it fits, per clip; masks may overlap.

    Parameters
    ----------
    x : ndarray, shape (batch, frames, mels)
    n_masks, max_width : int
    rng : numpy.random.RandomState
        Per mask: the widths, then the starts.
    fill : float, optional
        The masked value (each clip's mean by default; after standardising
        the features this is about 0, the seed's fill).
    """
    return _mask(x, 1, n_masks, max_width, rng, fill)


def freq_mask(x, n_masks, max_width, rng, fill=None):
    """SpecAugment's frequency masks: ``n_masks`` runs of mel bands set to
    ``fill`` in every frame (as `time_mask`, along the bands)."""
    return _mask(x, 2, n_masks, max_width, rng, fill)


def one_hot(y, n_classes):
    """Integer labels as rows of a float32 identity."""
    y = np.asarray(y)
    if y.ndim != 1 or (len(y) and (y.min() < 0 or y.max() >= n_classes)):
        raise ValidationError(f"must be integer labels in [0, {n_classes}), got {y}", attr="y")
    return np.eye(n_classes, dtype=np.float32)[y]


def mixup(x, y, alpha, rng, prob=1.0, domain="power", floor=1e-6):
    """Mix each clip with another clip of the batch; the labels mix alike.

    Clip ``i`` is mixed with clip ``j = perm[i]`` (a random permutation) with
    weight ``lam_i ~ Beta(alpha, alpha)`` on itself, with probability
    ``prob`` (else ``lam_i = 1``): the soft label is
    ``lam_i y_i + (1 - lam_i) y_j``.

    Parameters
    ----------
    x : ndarray, shape (batch, frames, mels)
    y : ndarray, shape (batch, classes)
        One-hot or soft labels (`one_hot`).
    alpha : float
        Beta distribution parameter (> 0).
    rng : numpy.random.RandomState
        Draws the permutation, then the weights, then which clips are mixed.
    prob : float
        Fraction of clips that are mixed.
    domain : "power" or "log"
        ``"power"`` mixes the mel powers (as mixing the waveforms does, less
        the cross terms): ``log(lam (exp(x_i) - floor) + (1 - lam)
        (exp(x_j) - floor) + floor)``; ``"log"`` mixes the features linearly.
    floor : float
        The constant `log_mel` added before the log.

    Returns
    -------
    x_mixed, y_mixed : ndarray
    lam : ndarray, shape (batch,)
    perm : ndarray, shape (batch,)
    """
    x = _batch(x)
    y = np.asarray(y, dtype=np.float32)
    rng = _check_rng(rng)
    if y.ndim != 2 or len(y) != len(x):
        raise ValidationError(
            f"must be (batch, classes) soft labels for {len(x)} clips, got shape {y.shape}",
            attr="y",
        )
    if not alpha > 0:
        raise ValidationError(f"must be > 0, got {alpha}", attr="alpha")
    if not 0 <= prob <= 1:
        raise ValidationError(f"must be in [0, 1], got {prob}", attr="prob")
    if domain not in ("power", "log"):
        raise ValidationError(f"must be 'power' or 'log', got {domain!r}", attr="domain")
    n = len(x)
    perm = rng.permutation(n)
    lam = rng.beta(alpha, alpha, size=n)
    lam = np.where(rng.uniform(size=n) < prob, lam, 1.0)
    w = lam[:, None, None]
    x64 = x.astype(np.float64)
    if domain == "power":
        p = np.maximum(np.exp(x64) - floor, 0.0)
        mixed = np.log(w * p + (1 - w) * p[perm] + floor)
    else:
        mixed = w * x64 + (1 - w) * x64[perm]
    y_mixed = lam[:, None] * y + (1 - lam[:, None]) * y[perm]
    return mixed.astype(x.dtype), y_mixed.astype(np.float32), lam, perm


@dataclass(frozen=True)
class Augmentation:
    """The seed's recipe, piece by piece (each off when 0 or None).

    Applied to a batch in this order: `mixup`, `add_noise`, `time_roll`,
    `time_mask`, `freq_mask`.

    Parameters
    ----------
    roll : int
        `time_roll`'s ``max_shift`` in frames (the seed: 10).
    snr_db : (float, float), optional
        `add_noise`'s SNR range in dB.
    noise_prob : float
        Fraction of clips that get noise.
    time_masks, time_mask_width : int
        `time_mask` (SpecAugment).
    freq_masks, freq_mask_width : int
        `freq_mask` (SpecAugment).
    mixup_alpha : float
        `mixup`'s ``alpha`` (0: no mixup).
    mixup_prob : float
        Fraction of clips mixed.
    """

    roll: int = 0
    snr_db: tuple = None
    noise_prob: float = 1.0
    time_masks: int = 0
    time_mask_width: int = 0
    freq_masks: int = 0
    freq_mask_width: int = 0
    mixup_alpha: float = 0.0
    mixup_prob: float = 0.5

    @property
    def active(self):
        """Whether any piece is on."""
        return bool(
            self.roll
            or self.snr_db is not None
            or (self.time_masks and self.time_mask_width)
            or (self.freq_masks and self.freq_mask_width)
            or self.mixup_alpha > 0
        )

    def __call__(self, x, y, rng):
        """One batch: ``(x, soft labels)`` from features and one-hot labels."""
        x = _batch(x)
        y = np.asarray(y, dtype=np.float32)
        if self.mixup_alpha > 0:
            x, y, _, _ = mixup(x, y, self.mixup_alpha, rng, prob=self.mixup_prob)
        if self.snr_db is not None:
            noisy = add_noise(x, self.snr_db, rng)
            which = rng.uniform(size=len(x)) < self.noise_prob
            x = np.where(which[:, None, None], noisy, x)
        if self.roll:
            x = time_roll(x, self.roll, rng)
        if self.time_masks and self.time_mask_width:
            x = time_mask(x, self.time_masks, self.time_mask_width, rng)
        if self.freq_masks and self.freq_mask_width:
            x = freq_mask(x, self.freq_masks, self.freq_mask_width, rng)
        return x, y

    def describe(self):
        """A short label of the pieces that are on (``"none"`` if none)."""
        parts = []
        if self.mixup_alpha > 0:
            parts.append(f"mixup a={self.mixup_alpha:g} p={self.mixup_prob:g}")
        if self.snr_db is not None:
            parts.append(f"noise {self.snr_db[0]:g}-{self.snr_db[1]:g} dB p={self.noise_prob:g}")
        if self.roll:
            parts.append(f"roll +-{self.roll}")
        if self.time_masks and self.time_mask_width:
            parts.append(f"time masks {self.time_masks}x{self.time_mask_width}")
        if self.freq_masks and self.freq_mask_width:
            parts.append(f"freq masks {self.freq_masks}x{self.freq_mask_width}")
        return ", ".join(parts) or "none"


#: Named recipes: each piece of the seed's recipe alone, all of them
#: (``"seed"``), and none. The widths are for 98 frames of 20-40 mel bins.
PRESETS = {
    "none": Augmentation(),
    "roll": Augmentation(roll=10),
    "noise": Augmentation(snr_db=(5.0, 30.0), noise_prob=0.5),
    "masks": Augmentation(time_masks=2, time_mask_width=10, freq_masks=2, freq_mask_width=3),
    "mixup": Augmentation(mixup_alpha=0.4, mixup_prob=0.5),
    "seed": Augmentation(
        roll=10,
        snr_db=(5.0, 30.0),
        noise_prob=0.5,
        time_masks=2,
        time_mask_width=10,
        freq_masks=2,
        freq_mask_width=3,
        mixup_alpha=0.4,
        mixup_prob=0.5,
    ),
}


def augmented_batches(x, y, n_classes, augmentation, batch_size, rng):
    """One epoch of shuffled, augmented batches: ``(x, soft labels)`` pairs.

    Parameters
    ----------
    x : ndarray, shape (n, frames, mels)
    y : ndarray, shape (n,)
        Integer labels.
    n_classes : int
    augmentation : Augmentation
    batch_size : int
    rng : numpy.random.RandomState
        Draws the order, then each batch's augmentation in turn.
    """
    x = _batch(x)
    y = one_hot(y, n_classes)
    batch_size = check_int("batch_size", batch_size)
    order = rng.permutation(len(x))
    for i in range(0, len(x), batch_size):
        idx = order[i : i + batch_size]
        yield augmentation(x[idx], y[idx], rng)


__all__ = [
    "time_roll",
    "add_noise",
    "time_mask",
    "freq_mask",
    "one_hot",
    "mixup",
    "Augmentation",
    "PRESETS",
    "augmented_batches",
]
