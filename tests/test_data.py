import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.data import load_mnist_npz, permuted_digits
from nengo_lmu.validation import check_sequence_data


def test_permuted_digits():
    d = permuted_digits()
    assert d["x_train"].shape == (1437, 64, 1) and d["x_test"].shape == (360, 64, 1)
    assert d["y_train"].shape == (1437, 1, 1) and d["y_test"].shape == (360, 1, 1)
    assert d["x_train"].dtype == np.float32 and d["y_train"].dtype == np.int32
    assert d["x_train"].min() == 0 and d["x_train"].max() == 1
    # stratified: every class has the same share (to a sample) in both splits
    tr = np.bincount(d["y_train"].ravel()) / 1437
    te = np.bincount(d["y_test"].ravel()) / 360
    assert np.all(np.abs(tr - te) < 0.01)
    # the permutation is fixed and is the only difference from row-major order
    plain = permuted_digits(permute=False)
    assert plain["permutation"] is None
    assert np.array_equal(plain["x_train"][:, d["permutation"]], d["x_train"])
    assert np.array_equal(permuted_digits()["permutation"], d["permutation"])
    other = permuted_digits(permutation_seed=1)["permutation"]
    assert not np.array_equal(other, d["permutation"])
    assert sorted(d["permutation"]) == list(range(64))
    with pytest.raises(ValidationError, match="test_size: must be a fraction"):
        permuted_digits(test_size=1.5)


def test_load_mnist_npz(tmp_path, rng):
    path = tmp_path / "mnist.npz"
    x_train = rng.randint(0, 256, size=(6, 28, 28)).astype(np.uint8)
    x_test = rng.randint(0, 256, size=(4, 28, 28)).astype(np.uint8)
    np.savez(path, x_train=x_train, y_train=np.arange(6), x_test=x_test, y_test=np.arange(4))
    d = load_mnist_npz(str(path))
    assert d["x_train"].shape == (6, 784, 1) and d["y_test"].shape == (4, 1, 1)
    perm = d["permutation"]
    assert np.allclose(d["x_train"][..., 0], x_train.reshape(6, -1)[:, perm] / 255.0)
    plain = load_mnist_npz(str(path), permute=False)
    assert np.allclose(plain["x_test"][..., 0], x_test.reshape(4, -1) / 255.0)


def test_load_mnist_npz_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected an .npz with arrays x_train"):
        load_mnist_npz(str(tmp_path / "nope.npz"))
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 28, 28)))
    with pytest.raises(ValidationError, match="lacks arrays"):
        load_mnist_npz(str(tmp_path / "bad.npz"))
    np.savez(
        tmp_path / "flat.npz",
        x_train=np.zeros((2, 784)),
        y_train=np.zeros(2),
        x_test=np.zeros((2, 784)),
        y_test=np.zeros(2),
    )
    with pytest.raises(ValidationError, match="must be \\(n, rows, cols\\)"):
        load_mnist_npz(str(tmp_path / "flat.npz"))


@pytest.mark.parametrize(
    "x, y, kwargs, match",
    [
        (np.zeros((4, 5)), None, {}, "x: must be \\(batch, n_steps, n_inputs\\)"),
        (np.zeros((4, 5, 2)), None, dict(n_inputs=1), "x: must have 1 input"),
        (np.zeros((4, 5, 1)), None, dict(n_steps=6), "x: must have 6 steps"),
        (np.full((4, 5, 1), np.inf), None, {}, "x: must be finite, got inf"),
        (np.zeros((4, 5, 1)), np.zeros((3, 1, 1)), {}, "y: must hold one label per sequence"),
        (np.zeros((4, 5, 1)), np.full((4, 1, 1), 0.5), {}, "labels must be integers"),
        (
            np.zeros((4, 5, 1)),
            np.array([0, 1, 2, 10]),
            dict(n_classes=10),
            "labels must lie in \\[0, 10\\)",
        ),
        (np.zeros((4, 5, 1)), np.array([0, -1, 2, 3]), dict(n_classes=10), "labels must lie in"),
    ],
)
def test_check_sequence_data(x, y, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        check_sequence_data(x, y, **kwargs)


def test_check_sequence_data_accepts_good_data():
    check_sequence_data(
        np.zeros((4, 5, 1)), np.arange(4)[:, None, None], n_inputs=1, n_classes=4, n_steps=5
    )


# --- load_mnist_npz: values kept, bad arrays refused


def mnist(path, x_train=None, y_train=None, x_test=None, y_test=None):
    rng = np.random.RandomState(0)
    arrays = dict(
        x_train=rng.randint(0, 256, (6, 4, 4)).astype(np.uint8),
        y_train=np.arange(6),
        x_test=rng.randint(0, 256, (3, 4, 4)).astype(np.uint8),
        y_test=np.arange(3),
    )
    for k, v in dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test).items():
        if v is not None:
            arrays[k] = v
    np.savez(path, **arrays)
    return arrays


def test_mnist_float_images_are_not_divided_again(tmp_path):
    """Float images already in [0, 1] keep their values."""
    x = np.random.RandomState(1).rand(6, 4, 4)
    mnist(tmp_path / "f.npz", x_train=x, x_test=x[:3])
    d = load_mnist_npz(tmp_path / "f.npz", permute=False)
    assert np.allclose(d["x_train"][..., 0], x.reshape(6, -1))
    arrays = mnist(tmp_path / "u.npz")
    d = load_mnist_npz(tmp_path / "u.npz", permute=False)
    assert np.allclose(d["x_test"][..., 0], arrays["x_test"].reshape(3, -1) / 255.0)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(x_train=np.full((6, 4, 4), 2.0)), r"x_train holds floats in \[2, 2\]"),
        (dict(x_train=np.full((6, 4, 4), 300)), r"x_train holds integers in \[300, 300\]"),
        (dict(x_test=np.full((3, 4, 4), np.nan)), "x_test contains NaN"),
        (
            dict(y_train=np.array([0, 1, np.nan, 3, 4, 5])),
            "y_train must hold integer labels, got nan",
        ),
        (dict(y_train=np.array([0, 1, 2.5, 3, 4, 5])), "must hold integer labels, got 2.5"),
        (dict(y_test=np.array([0, -1, 2])), "y_test must hold labels >= 0, got -1"),
        (dict(y_test=np.array([0, 1])), r"y_test must hold one label per image \(3\)"),
        (
            dict(x_test=np.zeros((3, 5, 5), np.uint8)),
            r"training images are \(4, 4\) and "
            r"test images \(5, 5\)",
        ),
        (dict(x_train=np.zeros((6, 4, 4), bool)), "dtype bool"),
    ],
)
def test_mnist_refuses_bad_arrays(change, match, tmp_path):
    """NaN, negative or fractional labels, out-of-range pixels and
    mismatched sizes are refused, naming the file and the array."""
    mnist(tmp_path / "bad.npz", **change)
    with pytest.raises(ValidationError, match="bad.npz'.*" + match):
        load_mnist_npz(tmp_path / "bad.npz")


def test_permuted_digits_test_size_that_leaves_a_class_out_is_refused():
    """Issue 27 item 10: ``permuted_digits(test_size=0.999)`` raised
    scikit-learn's ``The train_size = 1 should be greater or equal to the
    number of classes``."""
    pytest.importorskip("sklearn")
    for bad, counts in ((0.999, "1 for training"), (0.001, "1795 for training, 2 for testing")):
        with pytest.raises(ValidationError, match=f"test_size: .*got {bad} \\({counts}"):
            permuted_digits(test_size=bad)
    data = permuted_digits(test_size=0.006)  # just inside: 11 test sequences
    assert len(np.unique(data["y_test"])) == 10


def test_load_mnist_npz_of_a_folder_names_it(tmp_path):
    """Issue 27 item 10: a folder raised numpy's IsADirectoryError."""
    with pytest.raises(ValidationError, match="path: '.*' is a folder: expected an .npz file"):
        load_mnist_npz(tmp_path)
