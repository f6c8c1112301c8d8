"""Augmentation of log-mel features (the LMUFormer recipe's data side)."""

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.augment import (
    Augmentation,
    add_noise,
    augmented_batches,
    freq_mask,
    mixup,
    one_hot,
    time_mask,
    time_roll,
)

FLOOR = 1e-6


@pytest.fixture
def rng():
    return np.random.RandomState(0)


def features(rng, n=6, frames=20, mels=8):
    """Log-mel-like features: log of positive powers plus the floor."""
    return np.log(rng.gamma(2.0, 0.5, size=(n, frames, mels)) + FLOOR).astype(np.float32)


def test_time_roll_is_a_roll_by_drawn_shifts(rng):
    x = features(rng)
    out = time_roll(x, 3, np.random.RandomState(5))
    shifts = np.random.RandomState(5).randint(-3, 4, size=len(x))
    assert np.any(shifts != 0)
    for xi, oi, s in zip(x, out, shifts):
        np.testing.assert_array_equal(oi, np.roll(xi, s, axis=0))
    # shift mode: the same frames move, the frames moved in hold the fill
    out = time_roll(x, 3, np.random.RandomState(5), mode="shift", fill=-7.0)
    for xi, oi, s in zip(x, out, shifts):
        if s > 0:
            np.testing.assert_array_equal(oi[s:], xi[:-s])
            assert np.all(oi[:s] == -7.0)
        elif s < 0:
            np.testing.assert_array_equal(oi[:s], xi[-s:])
            assert np.all(oi[s:] == -7.0)
        else:
            np.testing.assert_array_equal(oi, xi)
    np.testing.assert_array_equal(time_roll(x, 0, rng), x)


@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
def test_add_noise_hits_the_snr(rng, snr):
    x = features(rng)
    out = add_noise(x.astype(np.float64), snr, np.random.RandomState(0), fluctuation=0)
    signal = np.exp(x.astype(np.float64)) - FLOOR
    noise = np.exp(out) - np.exp(x.astype(np.float64))
    # a flat noise floor: the same power everywhere in a clip, at the SNR
    ratio = signal.mean(axis=(1, 2)) / noise.mean(axis=(1, 2))
    np.testing.assert_allclose(10 * np.log10(ratio), snr, atol=1e-4)
    np.testing.assert_allclose(noise, noise[:, :1, :1] * np.ones_like(noise), rtol=1e-4)


def test_add_noise_fluctuation_and_range(rng):
    x = features(rng, n=4, frames=200, mels=40).astype(np.float64)
    out = add_noise(x, (5.0, 15.0), np.random.RandomState(1), fluctuation=0.5)
    snr = np.random.RandomState(1).uniform(5.0, 15.0, size=4)
    noise = np.exp(out) - np.exp(x)
    expected = (np.exp(x) - FLOOR).mean(axis=(1, 2)) / 10 ** (snr / 10)
    # mean power at each clip's drawn SNR (8000 gamma draws, sd 0.5 each)
    np.testing.assert_allclose(noise.mean(axis=(1, 2)), expected, rtol=0.05)
    rel_sd = (noise / expected[:, None, None]).std(axis=(1, 2))
    np.testing.assert_allclose(rel_sd, 0.5, rtol=0.1)
    # louder noise (lower SNR) changes the features more
    quiet = add_noise(x, 30.0, np.random.RandomState(1), fluctuation=0)
    loud = add_noise(x, 0.0, np.random.RandomState(1), fluctuation=0)
    assert np.all(loud >= quiet) and np.all(quiet >= x - 1e-12)


def test_masks_set_runs_to_the_fill(rng):
    x = features(rng, n=50, frames=30, mels=12)
    out = time_mask(x, 2, 5, np.random.RandomState(3), fill=99.0)
    changed = np.all(out == 99.0, axis=2)  # frames masked in every band
    np.testing.assert_array_equal(out[~changed], x[~changed])
    assert 0 < changed.sum(axis=1).max() <= 10
    assert changed.any(axis=1).mean() > 0.5
    # each mask is a contiguous run: at most 2 runs per clip
    starts = np.diff(changed.astype(int), axis=1, prepend=0) == 1
    assert starts.sum(axis=1).max() <= 2
    out = freq_mask(x, 1, 4, np.random.RandomState(3))
    masked = (np.ptp(out, axis=1) == 0) & np.any(out != x, axis=1)
    np.testing.assert_array_equal(out.transpose(0, 2, 1)[~masked], x.transpose(0, 2, 1)[~masked])
    assert masked.sum(axis=1).max() <= 4 and masked.any()
    # the default fill is each clip's mean
    means = x.mean(axis=(1, 2))
    for i in np.flatnonzero(masked.any(axis=1)):
        np.testing.assert_allclose(out[i][:, masked[i]], means[i], rtol=1e-6)
    np.testing.assert_array_equal(time_mask(x, 0, 5, rng), x)


@pytest.mark.parametrize("domain", ["power", "log"])
def test_mixup_mixes_features_and_labels_alike(rng, domain):
    x = features(rng, n=8).astype(np.float64)
    y = one_hot(np.arange(8) % 3, 3)
    out, y_mix, lam, perm = mixup(x, y, 0.4, np.random.RandomState(2), domain=domain)
    assert sorted(perm) == list(range(8)) and np.all((lam > 0) & (lam < 1))
    np.testing.assert_allclose(y_mix.sum(axis=1), 1, rtol=1e-6)
    for i in range(8):
        j = perm[i]
        np.testing.assert_allclose(y_mix[i], lam[i] * y[i] + (1 - lam[i]) * y[j], rtol=1e-6)
        if domain == "power":
            p = lam[i] * (np.exp(x[i]) - FLOOR) + (1 - lam[i]) * (np.exp(x[j]) - FLOOR)
            np.testing.assert_allclose(np.exp(out[i]) - FLOOR, p, rtol=1e-9)
        else:
            np.testing.assert_allclose(out[i], lam[i] * x[i] + (1 - lam[i]) * x[j])
    # prob=0 leaves everything as it was
    same, y_same, lam0, _ = mixup(x, y, 0.4, np.random.RandomState(2), prob=0.0)
    np.testing.assert_allclose(same, x, atol=1e-12)
    np.testing.assert_array_equal(y_same, y)
    assert np.all(lam0 == 1)


def test_augmentation_pipeline_seeded_and_in_order(rng):
    x = features(rng, n=10)
    y = one_hot(np.arange(10) % 4, 4)
    aug = Augmentation(roll=2, time_masks=1, time_mask_width=3)
    a, ya = aug(x, y, np.random.RandomState(7))
    b, _ = aug(x, y, np.random.RandomState(7))
    np.testing.assert_array_equal(a, b)
    # the same as calling the pieces in order with one generator
    r = np.random.RandomState(7)
    ref = time_mask(time_roll(x, 2, r), 1, 3, r)
    np.testing.assert_array_equal(a, ref)
    np.testing.assert_array_equal(ya, y)
    assert aug.active and aug.describe() == "roll +-2, time masks 1x3"
    assert not Augmentation().active and Augmentation().describe() == "none"


def test_augmented_batches_cover_the_epoch(rng):
    x = features(rng, n=10)
    y = np.arange(10) % 5
    batches = list(augmented_batches(x, y, 5, Augmentation(), 4, np.random.RandomState(0)))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    order = np.random.RandomState(0).permutation(10)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x[order])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]).argmax(1), y[order])


def test_bad_arguments(rng):
    x = features(rng)
    with pytest.raises(ValidationError, match="x"):
        time_roll(x[0], 2, rng)
    with pytest.raises(ValidationError, match="rng"):
        time_roll(x, 2, 0)
    with pytest.raises(ValidationError, match="mode"):
        time_roll(x, 2, rng, mode="wrap")
    with pytest.raises(ValidationError, match="snr_db"):
        add_noise(x, (20.0, 10.0), rng)
    with pytest.raises(ValidationError, match="alpha"):
        mixup(x, one_hot(np.zeros(6, int), 2), 0.0, rng)
    with pytest.raises(ValidationError, match="y"):
        mixup(x, one_hot(np.zeros(5, int), 2), 0.3, rng)
    with pytest.raises(ValidationError, match="y"):
        one_hot([0, 3], 3)


def test_compare_lmuformer_trains_on_augmented_data_and_scores_far():
    pytest.importorskip("keras")  # Keras 3 (any backend) or tf.keras 2.12
    from nengo_lmu.apps.augment import PRESETS
    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer
    from nengo_lmu.dl.lmuformer import final_scores_model

    rng = np.random.RandomState(0)

    # two "keywords": a loud band low or high in the spectrum
    def clips(n):
        x = features(rng, n=n, frames=16, mels=6)
        y = np.arange(n) % 2
        x[y == 0, 4:12, :2] += 3.0
        x[y == 1, 4:12, 4:] += 3.0
        return x, y.astype(np.int32)

    data = dict(keywords=("yes", "no"), test_variants=np.array(["f1"]))
    for split, n in (("train", 40), ("test", 10), ("far", 12)):
        data[f"x_{split}"], data[f"y_{split}"] = clips(n)
    kwargs = dict(data=data, dim=4, epochs=2, seeds=[0], models=["lmuformer"], stream_clips=0)
    plain = compare_lmuformer(keep_models=True, **kwargs)
    aug = compare_lmuformer(keep_models=True, augmentation=PRESETS["seed"], **kwargs)
    assert aug.settings["augmentation"] == PRESETS["seed"].describe()
    assert aug.settings["n_far"] == 12 and plain.settings["augmentation"] == "none"
    # the far accuracy is the kept model's on the standardised far clips
    mean = data["x_train"].mean(axis=(0, 1))
    std = data["x_train"].std(axis=(0, 1)) + 1e-6
    for result in (plain, aug):
        model = final_scores_model(result.keras_models["lmuformer"])
        scores = model.predict((data["x_far"] - mean) / std, verbose=0)
        expected = np.mean(np.argmax(scores, -1) == data["y_far"])
        assert result.runs[0].far_accuracy == pytest.approx(expected)
    # the same seed trained on other (augmented) batches: other weights
    w_plain = plain.keras_models["lmuformer"].get_weights()
    w_aug = aug.keras_models["lmuformer"].get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(w_plain, w_aug))
