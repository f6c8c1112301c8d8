"""Byte-level corpora: splits by file, separators, packing, bad input."""

import subprocess
import sys

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.text import (
    SEPARATOR,
    batch_indices,
    decode,
    directory_corpus,
    encode,
    pack_sequences,
    split_files,
    stdlib_corpus,
    stdlib_files,
)


def test_encode_decode_roundtrip():
    text = "naïve = 'ü'\n"
    assert decode(encode(text)) == text
    assert list(encode(b"ab")) == [97, 98]
    with pytest.raises(ValidationError, match="tokens"):
        decode([300])


def test_stdlib_split_deterministic_and_disjoint():
    a = stdlib_corpus(seed=3, max_files=60)
    b = stdlib_corpus(seed=3, max_files=60)
    c = stdlib_corpus(seed=4, max_files=60)
    assert a.files == b.files
    assert np.array_equal(a.train, b.train) and np.array_equal(a.val, b.val)
    assert a.files["val"] != c.files["val"]
    sets = [set(a.files[s]) for s in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sum(len(s) for s in sets) == 60
    # one separator after each file, and the bytes are the files' bytes
    assert np.sum(a.val == SEPARATOR) == len(a.files["val"])
    first = open(a.files["val"][0], "rb").read()
    assert bytes(a.val[: len(first)].astype(np.uint8)) == first
    n_files, n_bytes = a.sizes["train"]
    assert n_files == len(a.files["train"]) and n_bytes == len(a.train) - n_files


def test_stdlib_excludes_tests():
    root, paths = stdlib_files()
    assert len(paths) > 100
    assert not any("test" in p.relative_to(root).parts[:-1] for p in paths)


def test_directory_corpus(tmp_path):
    for i in range(10):
        (tmp_path / f"f{i}.txt").write_text(f"file {i}\n" * (i + 1))
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    corpus = directory_corpus(tmp_path, pattern="*.txt", seed=0)
    assert sum(len(v) for v in corpus.files.values()) == 10
    assert all(f.endswith(".txt") for v in corpus.files.values() for f in v)
    assert len(corpus.files["val"]) >= 1 and len(corpus.files["test"]) >= 1
    # split_files is the same function of the sorted names
    files = split_files(sorted(tmp_path.glob("*.txt")), seed=0)
    assert [str(p) for p in files["test"]] == corpus.files["test"]


def test_directory_corpus_bad(tmp_path):
    # each error names the parameter (not the type of the object, 'str.path')
    with pytest.raises(ValidationError) as e:
        directory_corpus(tmp_path)
    assert str(e.value).startswith("path: ") and str(tmp_path) in str(e.value)
    (tmp_path / "a.py").write_text("x")
    with pytest.raises(ValidationError, match="^path: .*no '\\*.txt' files"):
        directory_corpus(tmp_path, pattern="*.txt")
    with pytest.raises(ValidationError, match="^path: must be a directory, got '/nonexistent'"):
        directory_corpus("/nonexistent")
    with pytest.raises(ValidationError, match="^max_files: "):
        directory_corpus(tmp_path, max_files=0)
    with pytest.raises(ValidationError, match="^seq_len: "):
        pack_sequences(np.arange(10), 0)
    with pytest.raises(ValidationError, match="^fractions: "):
        split_files([], fractions=(1, 1))


def test_pack_sequences():
    stream = np.arange(23)
    packed = pack_sequences(stream, 5)
    assert packed.shape == (4, 6)
    # targets continue where the inputs of the previous row stopped
    assert np.array_equal(packed[1], np.arange(5, 11))
    assert np.array_equal(packed[:, 1:].ravel()[:-1], np.arange(1, 21)[:-1])
    with pytest.raises(ValidationError, match="seq_len"):
        pack_sequences(np.arange(4), 5)


def test_batch_indices():
    a = [batch_indices(10, 4, s, seed=1) for s in range(4)]
    assert all(
        np.array_equal(x, y)
        for x, y in zip(a, [batch_indices(10, 4, s, seed=1) for s in range(4)])
    )
    # one epoch (2 batches of 4 from 10 rows) has no repeats
    assert len(set(np.concatenate(a[:2]))) == 8
    assert not np.array_equal(a[0], a[2])


def test_no_tensorflow_at_import():
    code = "import nengo_lmu.text, sys; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
