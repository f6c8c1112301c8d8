"""Spoken keywords: the synthesiser's data set, the features, the real-set loader."""

import importlib.util

import numpy as np
import pytest
from nengo.exceptions import ValidationError
from scipy.io import wavfile

from nengo_lmu.apps.audio import SAMPLE_RATE, log_mel, mel_filterbank
from nengo_lmu.apps.speech import (
    FAR_RATES,
    KEYWORDS,
    TRAIN_PITCHES,
    TRAIN_RATES,
    load_speech_commands,
    spoken_keywords,
    synthesize,
)

needs_espeak = pytest.mark.skipif(
    importlib.util.find_spec("espeakng_loader") is None,
    reason="needs espeakng-loader (the 'speech' extra)",
)


@pytest.fixture
def rng():
    return np.random.RandomState(0)


QUICK = dict(keywords=["yes", "no", "up"], n_train=3, n_test=2, n_mels=16)


def test_mel_filterbank_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    for n_mels, n_fft, fmin in ((40, 512, 20.0), (16, 512, 0.0), (64, 1024, 125.0)):
        ref = tf.signal.linear_to_mel_weight_matrix(
            n_mels, n_fft // 2 + 1, SAMPLE_RATE, fmin, SAMPLE_RATE / 2, dtype=tf.float64
        ).numpy()
        np.testing.assert_allclose(mel_filterbank(n_mels, n_fft, fmin=fmin), ref, atol=1e-6)


def test_log_mel_matches_tensorflow_stft(rng):
    tf = pytest.importorskip("tensorflow")
    audio = rng.randn(2, SAMPLE_RATE) * 0.1
    ours = log_mel(audio, n_mels=20)
    window = np.hanning(402)[1:-1]
    stft = tf.signal.stft(
        audio, 400, 160, 512, window_fn=lambda n, dtype: tf.constant(window, dtype=dtype)
    )
    power = np.abs(stft.numpy()) ** 2
    mel = tf.signal.linear_to_mel_weight_matrix(
        20, 257, SAMPLE_RATE, 20.0, 8000.0, dtype=tf.float64
    ).numpy()
    assert ours.shape == (2, 98, 20)  # 25 ms windows every 10 ms in 1 s
    np.testing.assert_allclose(ours, np.log(power @ mel + 1e-6), atol=1e-8)


def test_log_mel_of_a_tone_peaks_at_its_band():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    fb = mel_filterbank(40)
    freqs = np.linspace(0, SAMPLE_RATE / 2, 257)
    for f in (300.0, 1000.0, 4000.0):
        feats = log_mel(np.sin(2 * np.pi * f * t), n_mels=40)
        # the loudest band is one of the (at most two) filters covering the
        # tone's bin, and the bands far from it are > 1e3 times weaker
        covering = np.flatnonzero(fb[np.argmin(np.abs(freqs - f))] > 0)
        assert 1 <= len(covering) <= 2
        assert np.all(np.isin(np.argmax(feats, axis=-1), covering)), f
        far = np.abs(np.arange(40) - covering[0]) > 8
        assert np.all(feats[:, far].max(axis=1) < feats.max(axis=1) - np.log(1e3)), f


@needs_espeak
def test_synthesize_speaks():
    audio = synthesize("seven", "en-us+m3")
    # a word of a few hundred ms, not silence
    assert 0.2 < len(audio) / SAMPLE_RATE < 1.5
    assert np.abs(audio).max() > 0.05
    with pytest.raises(ValidationError, match="voice"):
        synthesize("seven", "xx-nonexistent+nobody")


@needs_espeak
def test_spoken_keywords_deterministic_and_split_by_voice():
    a = spoken_keywords(**QUICK, use_cache=False, workers=2)
    # one worker process or two: the same set
    b = spoken_keywords(**QUICK, use_cache=False, workers=1)
    for split in ("train", "test", "far"):
        for key in ("x", "y", "voices", "rates", "pitches"):
            np.testing.assert_array_equal(a[f"{key}_{split}"], b[f"{key}_{split}"])
    c = spoken_keywords(**QUICK, seed=1, use_cache=False)
    assert not np.allclose(a["x_train"], c["x_train"])
    assert a["x_train"].shape == (9, 98, 16) and a["x_test"].shape == (6, 98, 16)
    np.testing.assert_array_equal(a["y_train"], np.repeat([0, 1, 2], 3))
    assert np.all(np.isfinite(a["x_train"]))
    # speaker split: no test voice variant is ever heard in training
    train_v, test_v = set(a["train_variants"]), set(a["test_variants"])
    assert train_v and test_v and not train_v & test_v
    assert {v.split("+")[1] for v in a["voices_train"]} <= train_v
    assert {v.split("+")[1] for v in a["voices_test"]} <= test_v
    # the far split: unseen voices at rates and pitches outside training's
    assert a["x_far"].shape == (6, 98, 16)
    np.testing.assert_array_equal(a["y_far"], np.repeat([0, 1, 2], 2))
    assert {v.split("+")[1] for v in a["voices_far"]} <= test_v
    for split, inside in (("train", True), ("test", True), ("far", False)):
        for key, (lo, hi) in (("rates", TRAIN_RATES), ("pitches", TRAIN_PITCHES)):
            within = (a[f"{key}_{split}"] >= lo) & (a[f"{key}_{split}"] < hi)
            assert np.all(within == inside), (split, key)
    assert np.all((a["rates_far"] >= FAR_RATES[0][0]) & (a["rates_far"] < FAR_RATES[1][1]))
    assert a["seconds"] > 0


@needs_espeak
def test_spoken_keywords_cache(tmp_path):
    a = spoken_keywords(**QUICK, cache_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1
    # a marked file: the second call must read it, not regenerate
    with np.load(files[0]) as f:
        saved = dict(f)
    saved["x_train"] = saved["x_train"] + 1.0
    np.savez(files[0], **saved)
    b = spoken_keywords(**QUICK, cache_dir=tmp_path)
    np.testing.assert_array_equal(b["x_train"], a["x_train"] + 1.0)
    assert b["keywords"] == ("yes", "no", "up")
    spoken_keywords(**(QUICK | dict(n_mels=8)), cache_dir=tmp_path)
    assert len(list(tmp_path.iterdir())) == 2  # other parameters, another file
    spoken_keywords(**(QUICK | dict(n_far=0)), cache_dir=tmp_path, workers=1)
    assert len(list(tmp_path.iterdir())) == 3


def test_bad_keywords_and_arguments():
    with pytest.raises(ValidationError, match="keywords"):
        spoken_keywords(["yes", "banana"], use_cache=False)
    with pytest.raises(ValidationError, match="keywords"):
        spoken_keywords(["yes"], use_cache=False)
    with pytest.raises(ValidationError, match="n_mels"):
        spoken_keywords(["yes", "no"], n_mels=0, use_cache=False)
    with pytest.raises(ValidationError, match="test_fraction"):
        spoken_keywords(["yes", "no"], test_fraction=1.5, use_cache=False)
    with pytest.raises(ValidationError, match="n_far"):
        spoken_keywords(["yes", "no"], n_far=-1, use_cache=False)
    with pytest.raises(ValidationError, match="workers"):
        spoken_keywords(["yes", "no"], workers=0, use_cache=False)
    assert len(KEYWORDS) == 35


@needs_espeak
def test_load_speech_commands(tmp_path, rng):
    # a few generated clips laid out like the real data set
    clips = {}
    for word in ("yes", "no"):
        (tmp_path / word).mkdir()
        for i in range(3):
            audio = np.zeros(SAMPLE_RATE)
            speech = synthesize(word, "en-us+m3")
            audio[: len(speech)] = speech * 0.8
            if i == 2:
                audio = audio[:12000]  # a short clip, zero padded by the loader
            pcm = np.round(audio * 32767).astype(np.int16)
            wavfile.write(tmp_path / word / f"spk{i}_nohash_0.wav", SAMPLE_RATE, pcm)
            clips[f"{word}/spk{i}_nohash_0.wav"] = pcm
    (tmp_path / "validation_list.txt").write_text("yes/spk1_nohash_0.wav\n")
    (tmp_path / "testing_list.txt").write_text("no/spk0_nohash_0.wav\nyes/spk2_nohash_0.wav\n")
    data = load_speech_commands(tmp_path, keywords=["yes", "no"], n_mels=16)
    np.testing.assert_array_equal(data["y_train"], [0, 1, 1])
    np.testing.assert_array_equal(data["y_val"], [0])
    np.testing.assert_array_equal(data["y_test"], [0, 1])
    pcm = np.zeros(SAMPLE_RATE)
    pcm[:12000] = clips["yes/spk2_nohash_0.wav"] / 32768.0
    np.testing.assert_allclose(data["x_test"][0], log_mel(pcm, n_mels=16), rtol=1e-5, atol=1e-4)
    with pytest.raises(ValidationError, match="keywords"):
        load_speech_commands(tmp_path, keywords=["yes", "cat"])
    with pytest.raises(ValidationError, match="path"):
        load_speech_commands(tmp_path / "yes")
