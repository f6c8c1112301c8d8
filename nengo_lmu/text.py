"""Byte-level text corpora for the language models (no TensorFlow here).

A corpus is a set of text files, each read as raw bytes (token ids 0..255),
split *by file* into train / validation / test with a seeded permutation,
and concatenated per split with the separator token `SEPARATOR` (256)
between files, so the vocabulary has `VOCAB_SIZE` = 257 ids. Sequences for
training are consecutive windows of that stream (`pack_sequences`): packing
short files together, as seed 003 packs documents with its
``<|endofsequence|>`` token.

`stdlib_corpus` builds one from the Python standard library's own source
files (``sysconfig.get_paths()["stdlib"]``), which every machine with
Python has; `directory_corpus` from any directory of text files.

On the Python 3.11 standard library here (tests, ``site-packages``,
``idlelib``, ``lib2to3`` and ``turtledemo`` left out; seed 0,
fractions 0.9 / 0.05 / 0.05) the split is 522 / 29 / 29 files of
9,615,646 / 937,112 / 449,950 bytes (measured; `TextCorpus.sizes` reports
the exact numbers of a build, which depend on the Python version).

Examples
--------
>>> corpus = stdlib_corpus(max_files=20)
>>> corpus.vocab_size, decode(encode("def f():"))
(257, 'def f():')
"""

import pathlib
import sysconfig
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_int, check_positive

SEPARATOR = 256
VOCAB_SIZE = 257
SPLITS = ("train", "val", "test")
STDLIB_EXCLUDE = ("site-packages", "test", "tests", "idlelib", "lib2to3", "turtledemo")


def encode(text):
    """UTF-8 bytes of ``text`` (str or bytes) as an int32 token array."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    return np.frombuffer(bytes(text), dtype=np.uint8).astype(np.int32)


def decode(tokens):
    """Token ids back to text: separators become newlines, bad UTF-8 is replaced."""
    tokens = np.asarray(tokens).reshape(-1)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= VOCAB_SIZE):
        raise ValidationError(
            f"must be token ids in [0, {VOCAB_SIZE}), got {tokens.min()}..{tokens.max()}",
            attr="tokens",
        )
    tokens = np.where(tokens == SEPARATOR, ord("\n"), tokens).astype(np.uint8)
    return tokens.tobytes().decode("utf-8", errors="replace")


@dataclass
class TextCorpus:
    """Token streams of each split and the files they came from."""

    train: np.ndarray = field(repr=False)
    val: np.ndarray = field(repr=False)
    test: np.ndarray = field(repr=False)
    files: dict = field(repr=False)
    root: str = ""
    seed: int = 0
    vocab_size: int = VOCAB_SIZE

    @property
    def sizes(self):
        """``{split: (files, bytes)}`` (separators not counted)."""
        return {
            s: (len(self.files[s]), int(np.sum(getattr(self, s) != SEPARATOR))) for s in SPLITS
        }

    def describe(self):
        return ", ".join(f"{s}: {n} files, {b / 1e6:.2f} MB" for s, (n, b) in self.sizes.items())


def _stream(paths):
    parts = []
    for p in paths:
        parts.append(np.frombuffer(p.read_bytes(), dtype=np.uint8).astype(np.int32))
        parts.append(np.array([SEPARATOR], dtype=np.int32))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def split_files(paths, seed=0, fractions=(0.9, 0.05, 0.05)):
    """Split ``paths`` (sorted first) into train / val / test by a seeded shuffle.

    Every split with a nonzero fraction gets at least one file when there
    are at least three files.
    """
    fr = np.asarray([check_positive("fractions", f) for f in fractions])
    if len(fr) != 3:
        raise ValidationError(f"must be 3 numbers, got {fractions}", attr="fractions")
    fr = fr / fr.sum()
    paths = sorted(paths)
    n = len(paths)
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(fr[1] * n))) if n >= 3 else 0
    n_test = max(1, int(round(fr[2] * n))) if n >= 3 else 0
    val = [paths[i] for i in order[:n_val]]
    test = [paths[i] for i in order[n_val : n_val + n_test]]
    train = [paths[i] for i in order[n_val + n_test :]]
    return {"train": train, "val": val, "test": test}


def _corpus(root, paths, seed, fractions, what):
    if not paths:
        raise ValidationError(f"{str(root)!r} holds no {what} files", attr="path")
    files = split_files(paths, seed=seed, fractions=fractions)
    streams = {s: _stream(files[s]) for s in SPLITS}
    return TextCorpus(
        streams["train"],
        streams["val"],
        streams["test"],
        {s: [str(p) for p in files[s]] for s in SPLITS},
        str(root),
        seed,
    )


def stdlib_files(max_files=None, exclude=STDLIB_EXCLUDE):
    """The standard library's ``*.py`` files (sorted), with ``exclude`` dirs left out."""
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    paths = sorted(
        p
        for p in root.rglob("*.py")
        if p.is_file() and not set(p.relative_to(root).parts[:-1]) & set(exclude)
    )
    if max_files is not None:
        max_files = check_int("max_files", max_files)
        # an evenly spread subset, so small corpora still span the library
        idx = np.linspace(0, len(paths) - 1, min(max_files, len(paths))).astype(int)
        paths = [paths[i] for i in np.unique(idx)]
    return root, paths


def stdlib_corpus(seed=0, fractions=(0.9, 0.05, 0.05), max_files=None):
    """A byte-level corpus of the Python standard library's source files.

    Parameters
    ----------
    seed : int
        Seed of the split by file.
    fractions : (float, float, float)
        Train / validation / test shares of the files.
    max_files : int, optional
        Use an evenly spread subset of this many files (for quick runs).
    """
    root, paths = stdlib_files(max_files)
    return _corpus(root, paths, seed, fractions, "Python source")


def directory_corpus(path, pattern="*", seed=0, fractions=(0.9, 0.05, 0.05), max_files=None):
    """A byte-level corpus from the files under ``path`` matching ``pattern``.

    Files are found recursively (``Path.rglob(pattern)``); an empty
    directory, or one with no matching file, is a `ValidationError`.
    """
    root = pathlib.Path(path)
    if not root.is_dir():
        raise ValidationError(f"must be a directory, got {str(path)!r}", attr="path")
    paths = sorted(p for p in root.rglob(pattern) if p.is_file())
    if max_files is not None:
        paths = paths[: check_int("max_files", max_files)]
    return _corpus(root, paths, seed, fractions, f"{pattern!r}")


def pack_sequences(stream, seq_len):
    """Consecutive windows of ``seq_len + 1`` tokens (stride ``seq_len``).

    Row ``i`` gives inputs ``row[:-1]`` and next-token targets ``row[1:]``;
    the tail that does not fill a window is dropped. Shape
    ``(n_sequences, seq_len + 1)``.
    """
    seq_len = check_int("seq_len", seq_len)
    stream = np.asarray(stream)
    n = (len(stream) - 1) // seq_len
    if n < 1:
        raise ValidationError(
            f"a stream of {len(stream)} tokens holds no sequence of {seq_len} + 1",
            attr="seq_len",
        )
    idx = np.arange(n)[:, None] * seq_len + np.arange(seq_len + 1)[None]
    return stream[idx].astype(np.int32)


def batch_indices(n_sequences, batch_size, step, seed=0):
    """Rows of batch number ``step``: epoch-wise seeded permutations.

    The same ``(seed, step)`` always gives the same rows, so any number of
    workers can each take their slice of the same global batch.
    """
    per_epoch = max(1, n_sequences // batch_size)
    epoch, i = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n_sequences)
    if n_sequences < batch_size:
        perm = np.resize(perm, batch_size)
    return perm[i * batch_size : (i + 1) * batch_size]


__all__ = [
    "SEPARATOR",
    "VOCAB_SIZE",
    "TextCorpus",
    "encode",
    "decode",
    "split_files",
    "stdlib_files",
    "stdlib_corpus",
    "directory_corpus",
    "pack_sequences",
    "batch_indices",
]
