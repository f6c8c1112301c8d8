"""Log-mel features of audio clips (pure numpy): the HTK mel scale, the
triangular mel filterbank and the framed, windowed power spectrum. The
spoken-keyword data sets (`nengo_lmu.apps.speech`) are made of these features.
"""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_int

#: the sample rate of every clip (Speech Commands'), in Hz
SAMPLE_RATE = 16000


def hz_to_mel(f):
    """The HTK mel scale, ``1127 ln(1 + f / 700)``."""
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def mel_filterbank(n_mels, n_fft=512, sample_rate=SAMPLE_RATE, fmin=20.0, fmax=None):
    """Triangular mel filters, shape ``(n_fft // 2 + 1, n_mels)``.

    Triangles are linear in mel between band edges equally spaced in mel,
    evaluated at the FFT bin frequencies; the DC bin gets no weight (the same
    definition as ``tf.signal.linear_to_mel_weight_matrix``).
    """
    n_mels = check_int("n_mels", n_mels)
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValidationError(
            f"need 0 <= fmin < fmax <= {sample_rate / 2}, got fmin={fmin}, fmax={fmax}",
            attr="fmax",
        )
    n_bins = n_fft // 2 + 1
    mel = hz_to_mel(np.linspace(0, sample_rate / 2, n_bins)[1:])[:, None]
    edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (mel - lower) / (center - lower)
    falling = (upper - mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.vstack([np.zeros((1, n_mels)), weights])


def frame_count(n_samples, window=400, hop=160):
    """Frames of `log_mel` for ``n_samples`` (only whole windows)."""
    return 1 + (n_samples - window) // hop


def log_mel(
    audio,
    n_mels=40,
    sample_rate=SAMPLE_RATE,
    window_ms=25.0,
    hop_ms=10.0,
    n_fft=512,
    fmin=20.0,
    floor=1e-6,
):
    """Log-mel energies of one clip or a batch of clips.

    Parameters
    ----------
    audio : array_like, shape (..., n_samples)
    n_mels : int
    sample_rate : int
    window_ms, hop_ms : float
        Hann window length and hop (25 ms and 10 ms: 98 frames per second).
    n_fft : int
        FFT length (>= the window).
    fmin : float
        Lowest filter edge in Hz.
    floor : float
        Added before the log.

    Returns
    -------
    ndarray, shape (..., frames, n_mels)
        ``log(|STFT|^2 @ mel_filterbank + floor)``.
    """
    audio = np.asarray(audio, dtype=np.float64)
    win = int(round(window_ms * sample_rate / 1000))
    hop = int(round(hop_ms * sample_rate / 1000))
    if n_fft < win:
        raise ValidationError(f"must be >= the window ({win} samples), got {n_fft}", attr="n_fft")
    if audio.shape[-1] < win:
        raise ValidationError(f"clips need >= {win} samples, got {audio.shape[-1]}", attr="audio")
    n_frames = frame_count(audio.shape[-1], win, hop)
    idx = np.arange(win)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = audio[..., idx] * np.hanning(win + 2)[1:-1]
    power = np.abs(np.fft.rfft(frames, n=n_fft, axis=-1)) ** 2
    return np.log(power @ mel_filterbank(n_mels, n_fft, sample_rate, fmin) + floor)
