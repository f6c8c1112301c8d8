"""Spoken keywords: synthesised with eSpeak NG, or read from Speech Commands.

`spoken_keywords` makes a keyword-spotting data set offline: the 35 words
of Speech Commands v2 [1]_ spoken by the eSpeak NG synthesiser (the
``espeakng-loader`` wheel bundles ``libespeak-ng.so`` and its data, driven
here through ``ctypes``), resampled to 16 kHz, with variety in the voice
(English accents times voice variants), speaking rate, pitch, pitch range,
loudness, additive noise and time shift, cut to 1 s clips. As Speech
Commands splits by speaker, **the test split uses voice variants never
heard in training**; a second held-out split (``far``) has those unseen
voices speak slower or faster, and lower or higher, than any training clip.
Each word is made in its own worker process (several at once). Clips become log-mel features (`log_mel`: 25 ms
window, 10 ms hop, 98 frames per second). Generated sets are cached on disk
under a key made of every parameter.

`load_speech_commands` gives the same features for the real data set
(``<root>/<word>/*.wav`` with ``validation_list.txt`` and
``testing_list.txt``).

No TensorFlow here; only numpy, scipy and (for synthesis) ctypes.

References
----------
.. [1] Warden, P. (2018). Speech Commands: a dataset for limited-vocabulary
   speech recognition. arXiv:1804.03209.
"""

import ctypes
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from nengo.exceptions import ValidationError
from scipy.io import wavfile
from scipy.signal import resample_poly

from nengo_lmu.apps.audio import SAMPLE_RATE, frame_count, log_mel
from nengo_lmu.info import require_extra
from nengo_lmu.validation import check_int, check_positive

#: The 35 keywords of Speech Commands v2.
KEYWORDS = (
    "backward",
    "bed",
    "bird",
    "cat",
    "dog",
    "down",
    "eight",
    "five",
    "follow",
    "forward",
    "four",
    "go",
    "happy",
    "house",
    "learn",
    "left",
    "marvin",
    "nine",
    "no",
    "off",
    "on",
    "one",
    "right",
    "seven",
    "sheila",
    "six",
    "stop",
    "three",
    "tree",
    "two",
    "up",
    "visual",
    "wow",
    "yes",
    "zero",
)
#: eSpeak NG's English voices (accents) used for variety.
ACCENTS = (
    "en-us",
    "en",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-us-nyc",
)
#: Voice variants left out: robots, effects and names with spaces.
EXCLUDED_VARIANTS = ("Demonic", "UniRobot", "anikaRobot", "croak", "Tweaky")
#: Bump when generation changes, so old caches are not reused.
GENERATOR_VERSION = 2

_LOCK = threading.Lock()
_ESPEAK = {}


# --- eSpeak NG through ctypes ------------------------------------------------


def _espeak():
    """The initialised library (once per process) and its sample rate."""
    if "lib" not in _ESPEAK:
        require_extra("speech", "spoken_keywords")
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path()
        # AUDIO_OUTPUT_SYNCHRONOUS: samples come back through the callback
        rate = lib.espeak_Initialize(0x02, 0, str(data).encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"espeak_Initialize failed ({rate})")
        callback_type = ctypes.CFUNCTYPE(
            ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
        )
        chunks = []

        def collect(wav, n, _events):
            if n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        callback = callback_type(collect)  # kept alive in _ESPEAK
        lib.espeak_SetSynthCallback(callback)
        _ESPEAK.update(lib=lib, rate=rate, chunks=chunks, callback=callback, data=Path(data))
    return _ESPEAK


def voice_variants():
    """The eSpeak NG voice variants (sorted) that `spoken_keywords` uses."""
    path = _espeak()["data"] / "voices" / "!v"
    return sorted(
        p.name
        for p in path.iterdir()
        if p.is_file()
        and " " not in p.name
        and p.name not in EXCLUDED_VARIANTS
        and not p.name.startswith("robosoft")
    )


def synthesize(word, voice="en-us+m3", rate=175, pitch=50, pitch_range=50):
    """One word as float samples in [-1, 1] at `SAMPLE_RATE` Hz.

    Parameters
    ----------
    word : str
    voice : str
        eSpeak NG voice, ``"<accent>+<variant>"``.
    rate : int
        Words per minute (80-450).
    pitch, pitch_range : int
        Base pitch and its range, 0-100.
    """
    es = _espeak()
    lib = es["lib"]
    text = str(word).encode()
    with _LOCK:
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValidationError(f"eSpeak NG has no voice {voice!r}", attr="voice")
        # espeakRATE = 1, espeakPITCH = 3, espeakRANGE = 4 (absolute values)
        lib.espeak_SetParameter(1, int(rate), 0)
        lib.espeak_SetParameter(3, int(pitch), 0)
        lib.espeak_SetParameter(4, int(pitch_range), 0)
        es["chunks"].clear()
        lib.espeak_Synth(
            ctypes.c_char_p(text), ctypes.c_size_t(len(text) + 1), 0, 1, 0, 0, None, None
        )
        lib.espeak_Synchronize()
        wav = np.concatenate(es["chunks"]) if es["chunks"] else np.zeros(1, np.int16)
        es["chunks"].clear()
    # 22050 Hz -> 16 kHz (a polyphase filter; 16000/22050 = 320/441)
    g = np.gcd(SAMPLE_RATE, es["rate"])
    return resample_poly(wav.astype(np.float64) / 32768.0, SAMPLE_RATE // g, es["rate"] // g)


# --- the synthesised data set ----------------------------------------------------


def check_keywords(keywords):
    """A tuple of known keywords (all 35 if None)."""
    if keywords is None:
        return KEYWORDS
    if isinstance(keywords, str):
        keywords = (keywords,)
    keywords = tuple(keywords)
    unknown = [k for k in keywords if k not in KEYWORDS]
    if unknown or len(keywords) < 2 or len(set(keywords)) != len(keywords):
        raise ValidationError(
            f"must be at least two distinct words of Speech Commands v2 {KEYWORDS}; "
            f"unknown: {unknown}"
            if unknown
            else f"must be at least two distinct words, got {keywords}",
            attr="keywords",
        )
    return keywords


def default_cache_dir():
    """``$XDG_CACHE_HOME/nengo_lmu`` (``~/.cache/nengo_lmu`` by default)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "nengo_lmu")


def split_voices(test_fraction=0.2, split_seed=0):
    """``(train, test)`` voice variants: disjoint, the test ones unheard."""
    variants = voice_variants()
    rng = np.random.RandomState(split_seed)
    order = rng.permutation(len(variants))
    n_test = max(1, int(round(test_fraction * len(variants))))
    test = sorted(variants[i] for i in order[:n_test])
    train = sorted(variants[i] for i in order[n_test:])
    return train, test


#: Speaking rates (words per minute) and base pitches (0-100) of the training
#: and test clips: each drawn uniformly from ``[low, high)``.
TRAIN_RATES = (130, 230)
TRAIN_PITCHES = (25, 76)
#: The far held-out condition (``x_far``): unseen voice variants speaking
#: slower or faster, and lower or higher, than any training clip (one of the
#: two ranges at random for each).
FAR_RATES = ((90, 116), (250, 311))
FAR_PITCHES = ((5, 16), (86, 100))
#: The splits of `spoken_keywords`: name, the random stream's code, voices.
SPLITS = (("train", 0, "train"), ("test", 1, "test"), ("far", 2, "test"))


def _draw(rng, ranges):
    """One integer from ``[low, high)``, or from one of several such ranges."""
    if isinstance(ranges[0], (tuple, list)):
        ranges = ranges[rng.randint(len(ranges))]
    return rng.randint(*ranges)


def _clip(word, variants, rng, snr_db, shift, rates=TRAIN_RATES, pitches=TRAIN_PITCHES):
    voice = f"{ACCENTS[rng.randint(len(ACCENTS))]}+{variants[rng.randint(len(variants))]}"
    rate, pitch = _draw(rng, rates), _draw(rng, pitches)
    audio = synthesize(word, voice, rate=rate, pitch=pitch, pitch_range=rng.randint(20, 81))
    # trim the synthesiser's leading/trailing silence, then place the word
    loud = np.flatnonzero(np.abs(audio) > 0.02 * np.abs(audio).max())
    audio = audio[loud[0] : loud[-1] + 1] if len(loud) else audio
    audio = audio[:SAMPLE_RATE]
    clip = np.zeros(SAMPLE_RATE)
    slack = SAMPLE_RATE - len(audio)
    center = slack // 2
    start = int(np.clip(center + rng.randint(-shift, shift + 1), 0, slack))
    clip[start : start + len(audio)] = audio * 10 ** rng.uniform(-0.5, 0)
    rms = np.sqrt(np.mean(audio**2)) + 1e-12
    snr = rng.uniform(*snr_db)
    clip += rng.randn(SAMPLE_RATE) * rms / 10 ** (snr / 20)
    return clip, voice, rate, pitch


def _generate_word(
    word, counts, n_mels, test_fraction, snr_db, max_shift, seed, split_seed, return_audio
):
    """Every split's clips of one word (run in a fresh process).

    Each split of each word has its own random stream (seeded by the seed,
    the split and the word), so a word's clips do not depend on which other
    words were asked for, and eSpeak NG's state starts afresh per word.
    """
    es = _espeak()
    # the seed of eSpeak NG's own noise (unvoiced sounds of the klatt voices)
    es["lib"].espeak_ng_SetRandSeed(int(seed))
    variants = dict(zip(("train", "test"), split_voices(test_fraction, split_seed)))
    shift = int(max_shift * SAMPLE_RATE)
    out = {}
    for split, code, voices in SPLITS:
        rng = np.random.RandomState([seed, code, KEYWORDS.index(word), 7919])
        rates, pitches = (
            (FAR_RATES, FAR_PITCHES) if split == "far" else (TRAIN_RATES, TRAIN_PITCHES)
        )
        clips, meta = [], []
        for _ in range(counts[split]):
            clip, voice, rate, pitch = _clip(
                word, variants[voices], rng, snr_db, shift, rates, pitches
            )
            clips.append(clip)
            meta.append((voice, rate, pitch))
        audio = np.array(clips).reshape(-1, SAMPLE_RATE)
        out[f"x_{split}"] = (
            log_mel(audio, n_mels)
            if len(audio)
            else np.zeros((0, frame_count(SAMPLE_RATE), n_mels))
        ).astype(np.float32)
        out[f"voices_{split}"] = np.array([m[0] for m in meta], dtype="U64")
        out[f"rates_{split}"] = np.array([m[1] for m in meta], dtype=np.int16)
        out[f"pitches_{split}"] = np.array([m[2] for m in meta], dtype=np.int16)
        if return_audio:
            out[f"audio_{split}"] = audio
    return out


def _generate_to_file(args_json, path):
    """Entry point of a worker process: `_generate_word` into an ``.npz``."""
    args = json.loads(args_json)
    args["snr_db"] = tuple(args["snr_db"])
    np.savez(path, **_generate_word(**args))


def _run_worker(args, tmp):
    # a plain subprocess (not multiprocessing) so that callers' scripts need
    # no ``if __name__ == "__main__"`` guard, and every word starts eSpeak NG
    # afresh (it keeps a little state between utterances)
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    path = os.path.join(tmp, f"{args['word']}.npz")
    code = (
        "import sys; from nengo_lmu.apps.speech import _generate_to_file; "
        "_generate_to_file(sys.argv[1], sys.argv[2])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args), path],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"generating the spoken keywords failed:\n{done.stderr}")
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _generate(args, keywords, workers, progress):
    """All words in worker processes (at most ``workers`` at once)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed  # pylint: disable=import-outside-toplevel

    bar = None
    if progress:
        from tqdm import tqdm  # pylint: disable=import-outside-toplevel

        bar = tqdm(total=len(keywords), desc="synthesising", unit="word")
    parts = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(_run_worker, dict(args, word=w), tmp): w for w in keywords}
        for future in as_completed(futures):
            parts[futures[future]] = future.result()
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    out = {}
    for split, _, _ in SPLITS:
        for key in ("x", "voices", "rates", "pitches", "audio"):
            name = f"{key}_{split}"
            if name in parts[keywords[0]]:
                out[name] = np.concatenate([parts[w][name] for w in keywords])
        out[f"y_{split}"] = np.repeat(
            np.arange(len(keywords), dtype=np.int32),
            [len(parts[w][f"x_{split}"]) for w in keywords],
        )
    return out


def spoken_keywords(
    keywords=None,
    n_train=40,
    n_test=10,
    n_mels=40,
    test_fraction=0.2,
    snr_db=(10.0, 30.0),
    max_shift=0.15,
    seed=0,
    split_seed=0,
    cache_dir=None,
    use_cache=True,
    return_audio=False,
    n_far=None,
    workers=None,
    progress=False,
):
    """Keyword clips spoken by eSpeak NG, as log-mel features.

    Three splits: ``train``; ``test``, spoken by voice variants never heard in
    training with the training's ranges of speaking rate (`TRAIN_RATES`) and
    pitch (`TRAIN_PITCHES`); and ``far``, the same unseen voice variants at
    rates (`FAR_RATES`) and pitches (`FAR_PITCHES`) outside the training
    ranges.

    Parameters
    ----------
    keywords : sequence of str, optional
        Words of `KEYWORDS` (all 35 by default); labels follow this order.
    n_train, n_test : int
        Clips per keyword in each split.
    n_mels : int
        Mel bins.
    test_fraction : float
        Fraction of the voice variants kept for the held-out splits only.
    snr_db : (float, float)
        Range of the signal-to-noise ratio of the added white noise.
    max_shift : float
        Largest random shift of the word from the clip's centre, in seconds.
    seed : int
        Seeds the clips (voices, rates, pitches, noise, shifts).
    split_seed : int
        Seeds which voice variants are held out for testing.
    cache_dir : str, optional
        Where generated sets are kept (`default_cache_dir`); a set is reused
        when every parameter matches.
    use_cache : bool
        Read and write the cache.
    return_audio : bool
        Also return the 16 kHz clips (not cached).
    n_far : int, optional
        Clips per keyword in the far held-out split (``n_test`` by default;
        0 for none).
    workers : int, optional
        Worker processes synthesising words in parallel (one word each at a
        time; the CPU count by default). The set does not depend on it.
    progress : bool
        Show a progress bar (tqdm) over the words while generating.

    Returns
    -------
    dict
        ``x_train`` ``(n_train * k, 98, n_mels)`` float32 log-mel features,
        ``y_train`` (int labels), ``x_test``, ``y_test``, ``x_far``,
        ``y_far``, ``keywords``; per clip ``voices_<split>`` (e.g.
        ``"en-us+m3"``), ``rates_<split>`` and ``pitches_<split>``;
        ``train_variants``/``test_variants`` (disjoint); ``seconds`` (the
        time generation took, also when read from the cache); with
        ``return_audio`` ``audio_<split>``.

    Examples
    --------
    >>> data = spoken_keywords(["yes", "no"], n_train=4, n_test=2, n_mels=20,
    ...                        use_cache=False)
    >>> data["x_train"].shape, data["x_test"].shape, data["x_far"].shape
    ((8, 98, 20), (4, 98, 20), (4, 98, 20))
    """
    keywords = check_keywords(keywords)
    n_train = check_int("n_train", n_train)
    n_test = check_int("n_test", n_test)
    n_far = n_test if n_far is None else check_int("n_far", n_far, minimum=0)
    n_mels = check_int("n_mels", n_mels)
    workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers)
    test_fraction = check_positive("test_fraction", test_fraction)
    if test_fraction >= 1:
        raise ValidationError(f"must be in (0, 1), got {test_fraction}", attr="test_fraction")
    lo, hi = (float(v) for v in snr_db)
    if not lo <= hi:
        raise ValidationError(f"must be (low, high) with low <= high, got {snr_db}", attr="snr_db")
    if not 0 <= max_shift <= 0.5:
        raise ValidationError(f"must be in [0, 0.5] s, got {max_shift}", attr="max_shift")
    seed = check_int("seed", seed, minimum=0)
    split_seed = check_int("split_seed", split_seed, minimum=0)
    args = dict(
        counts=dict(train=n_train, test=n_test, far=n_far),
        n_mels=n_mels,
        test_fraction=test_fraction,
        snr_db=[lo, hi],
        max_shift=max_shift,
        seed=seed,
        split_seed=split_seed,
    )
    path = cache_path(keywords, args, cache_dir)
    if use_cache and not return_audio and path.exists():
        with np.load(path) as f:
            out = {k: f[k] for k in f.files}
        out["keywords"] = tuple(str(k) for k in out["keywords"])
        out["seconds"] = float(out["seconds"])
        return out

    t0 = time.perf_counter()
    out = _generate(dict(args, return_audio=bool(return_audio)), keywords, workers, progress)
    train_variants, test_variants = split_voices(test_fraction, split_seed)
    out.update(
        train_variants=np.array(train_variants),
        test_variants=np.array(test_variants),
        seconds=time.perf_counter() - t0,
    )
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        saved = {k: v for k, v in out.items() if not k.startswith("audio_")}
        np.savez_compressed(tmp, keywords=np.array(keywords), **saved)
        os.replace(tmp, path)
    out["keywords"] = keywords
    return out


def cache_path(keywords, args, cache_dir=None):
    """The cache file of a set: its name is a hash of every parameter."""
    params = dict(args, keywords=list(keywords), version=GENERATOR_VERSION)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()) / f"spoken_keywords_{key}.npz"


# --- the real data set --------------------------------------------------------


def _read_wav(path):
    rate, audio = wavfile.read(path)
    if audio.dtype == np.int16:
        audio = audio / 32768.0
    elif audio.dtype == np.int32:
        audio = audio / 2.0**31
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = np.gcd(SAMPLE_RATE, rate)
        audio = resample_poly(audio, SAMPLE_RATE // g, rate // g)
    clip = np.zeros(SAMPLE_RATE)
    clip[: min(len(audio), SAMPLE_RATE)] = audio[:SAMPLE_RATE]
    return clip


def load_speech_commands(path, keywords=None, n_mels=40, max_per_keyword=None):
    """Speech Commands v2 as log-mel features, with its official split.

    Parameters
    ----------
    path : str
        The extracted data set: ``<path>/<word>/<file>.wav`` (16 kHz, <= 1 s;
        shorter clips are zero padded), ``validation_list.txt`` and
        ``testing_list.txt`` (paths relative to ``path``, one per line);
        every other file is in the training split.
    keywords : sequence of str, optional
        Words to load (all 35 by default); labels follow this order.
    n_mels : int
    max_per_keyword : int, optional
        At most this many clips per word and split (the first ones in
        sorted order), for quick runs.

    Returns
    -------
    dict
        ``x_train``, ``y_train``, ``x_val``, ``y_val``, ``x_test``,
        ``y_test`` (features as `spoken_keywords`) and ``keywords``.
    """
    keywords = check_keywords(keywords)
    root = Path(path)
    lists = {}
    for split, name in (("val", "validation_list.txt"), ("test", "testing_list.txt")):
        f = root / name
        if not f.is_file():
            raise ValidationError(
                f"{str(root)!r} has no {name} (is it Speech Commands?)", attr="path"
            )
        lists[split] = {line.strip() for line in f.read_text().splitlines() if line.strip()}
    files = {"train": [], "val": [], "test": []}
    for label, word in enumerate(keywords):
        folder = root / word
        if not folder.is_dir():
            raise ValidationError(
                f"{str(root)!r} has no folder for keyword {word!r}", attr="keywords"
            )
        counts = dict.fromkeys(files, 0)
        for wav in sorted(folder.glob("*.wav")):
            rel = f"{word}/{wav.name}"
            split = "val" if rel in lists["val"] else "test" if rel in lists["test"] else "train"
            if max_per_keyword is None or counts[split] < max_per_keyword:
                files[split].append((wav, label))
                counts[split] += 1
    out = {"keywords": keywords}
    for split, items in files.items():
        audio = np.array([_read_wav(f) for f, _ in items]).reshape(-1, SAMPLE_RATE)
        out[f"x_{split}"] = (
            log_mel(audio, n_mels)
            if len(items)
            else np.zeros((0, frame_count(SAMPLE_RATE), n_mels))
        ).astype(np.float32)
        out[f"y_{split}"] = np.array([label for _, label in items], dtype=np.int32)
    return out


__all__ = [
    "KEYWORDS",
    "voice_variants",
    "synthesize",
    "check_keywords",
    "default_cache_dir",
    "split_voices",
    "spoken_keywords",
    "TRAIN_RATES",
    "TRAIN_PITCHES",
    "FAR_RATES",
    "FAR_PITCHES",
    "load_speech_commands",
]
