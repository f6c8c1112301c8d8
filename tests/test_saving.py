"""One save format (nengo_lmu.networks.saving) for every trained network."""

import json
import os

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.data import load_braille_npz, load_mnist_npz
from nengo_lmu.networks import L2MU, LMUClassifier, RecurrentLIF
from nengo_lmu.networks.saving import FORMAT_VERSION, npz_path, read_network


def old_lmu_classifier_save(clf, path):
    """LMUClassifier.save of format version 1 (a development version before
    the shared format), as it wrote files."""
    config = dict(clf.config_dict(), format_version=1)
    weights = clf.get_weights()
    np.savez(
        path,
        __config__=np.array(json.dumps(config)),
        **{f"w:{k}": np.asarray(v) for k, v in weights.items()},
    )


def old_spiking_save(net, path):
    """SpikingClassifier.save of a development version before the shared
    format (no version)."""
    arrays = {f"w_{k}": v for k, v in net.get_weights().items()}
    arrays["config"] = np.array(
        json.dumps(
            dict(cls=type(net).__name__, args=net.config_dict(), neuron_params=net.neuron_params)
        )
    )
    np.savez(path, **arrays)


def spiking(cls, make_l2mu, seed=2):
    if cls is L2MU:
        return make_l2mu(seed=seed)
    return RecurrentLIF(6, 4, 9, seed=seed, beta_h=0.3)


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert set(wa) == set(wb)
    for k in wa:
        assert np.array_equal(wa[k], wb[k]) and wa[k].dtype == wb[k].dtype, k


@pytest.mark.parametrize("cls", [LMUClassifier, L2MU, RecurrentLIF])
def test_files_of_development_formats_are_refused(cls, tmp_path, make_lmu_classifier, make_l2mu):
    # nengo_lmu 0.1.0 is the first release: no earlier format is read
    path = tmp_path / "old.npz"
    if cls is LMUClassifier:
        old_lmu_classifier_save(make_lmu_classifier(), path)
        why = "unsupported format version 1 .this nengo_lmu reads 2."
    else:
        old_spiking_save(spiking(cls, make_l2mu), path)
        why = "no '__config__' header among its arrays"
    with pytest.raises(ValidationError, match=why) as e:
        cls.load(path)
    assert str(path) in str(e.value)


def test_every_network_saves_in_the_one_format(tmp_path, make_lmu_classifier, make_l2mu):
    nets = [
        ("LMUClassifier", make_lmu_classifier()),
        ("L2MU", spiking(L2MU, make_l2mu)),
        ("RecurrentLIF", spiking(RecurrentLIF, make_l2mu)),
    ]
    for kind, net in nets:
        path = tmp_path / f"{kind}.npz"
        net.save(path)
        with np.load(path) as f:
            header = json.loads(str(f["__config__"]))
        assert header["format_version"] == FORMAT_VERSION and header["kind"] == kind
        got_kind, config, weights, _ = read_network(path)
        assert got_kind == kind and config == net.config_dict()
        assert set(weights) == set(net.get_weights())
        loaded = LMUClassifier.load(path) if kind == "LMUClassifier" else L2MU.load(path)
        assert_same_weights(loaded, net)


def test_wrong_kind_and_bad_files_are_named(tmp_path, make_lmu_classifier, make_l2mu):
    make_l2mu().save(tmp_path / "l2mu.npz")
    with pytest.raises(
        ValidationError, match="holds a saved L2MU, which LMUClassifier cannot rebuild"
    ):
        LMUClassifier.load(tmp_path / "l2mu.npz")
    make_lmu_classifier().save(tmp_path / "clf.npz")
    with pytest.raises(
        ValidationError, match="holds a saved LMUClassifier, which L2MU or RecurrentLIF cannot"
    ):
        L2MU.load(tmp_path / "clf.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(
        ValidationError,
        match="other.npz' is not a saved nengo_lmu network: no '__config__' header",
    ):
        read_network(tmp_path / "other.npz")
    with pytest.raises(ValidationError, match="no such file: '.*missing.npz'"):
        LMUClassifier.load(tmp_path / "missing")


# --- what save writes and load accepts


def test_load_refuses_a_file_with_a_weight_missing(tmp_path, make_l2mu, make_lmu_classifier):
    """No random initial weight silently fills a missing one."""
    clf = make_lmu_classifier()
    clf.save(tmp_path / "full.npz")
    with np.load(tmp_path / "full.npz") as f:
        arrays = {k: f[k] for k in f.files if k != "w:cell0.W_m"}
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(
        ValidationError,
        match=r"partial.npz' holds an incomplete or "
        r"mismatched LMUClassifier: missing "
        r"weights \['cell0.W_m'\]",
    ):
        LMUClassifier.load(tmp_path / "partial.npz")
    net = make_l2mu()
    net.save(tmp_path / "l2mu.npz")
    with np.load(tmp_path / "l2mu.npz") as f:
        arrays = {k: f[k] for k in f.files if k != "w:W_o"}
    np.savez(tmp_path / "l2mu_partial.npz", **arrays)
    with pytest.raises(ValidationError, match=r"missing weights \['W_o'\]"):
        L2MU.load(tmp_path / "l2mu_partial.npz")


def test_save_refuses_wrong_shapes_and_nan(tmp_path, make_l2mu, make_lmu_classifier):
    """What load would refuse is not written."""
    clf = make_lmu_classifier()
    w = clf.get_weights()
    with pytest.raises(ValidationError, match=r"weights\['readout'\] must have shape"):
        clf.save(tmp_path / "bad.npz", {**w, "readout": np.zeros((2, 2))})
    net = make_l2mu()
    net.weights["W_h"].transform = nengo.Dense((12, 12), init=np.full((12, 12), np.nan))
    with pytest.raises(ValidationError, match=r"weights\['W_h'\] contains NaN"):
        net.save(tmp_path / "nan.npz")
    with pytest.raises(ValidationError, match=r"weights\['W_x'\] must be finite"):
        make_l2mu().set_weights({"W_x": np.full((12, 6), np.inf)})
    assert sorted(os.listdir(tmp_path)) == []


@pytest.mark.parametrize("factory", ["make_lmu_classifier", "make_l2mu"])
def test_save_and_load_follow_one_path_rule(factory, tmp_path, monkeypatch, request):
    """Save("model") writes model.npz and load("model") finds it."""
    monkeypatch.chdir(tmp_path)
    net = request.getfixturevalue(factory)()
    assert net.save("model") == "model.npz"
    assert os.listdir(tmp_path) == ["model.npz"]
    loaded = type(net).load("model")
    for k, w in net.get_weights().items():
        assert np.array_equal(loaded.get_weights()[k], w)
    assert npz_path("model.npz") == "model.npz"


@pytest.fixture
def wrong_files(tmp_path):
    (tmp_path / "notes.npz").write_text("not an archive")
    np.save(tmp_path / "array.npy", np.zeros(3))
    os.rename(tmp_path / "array.npy", tmp_path / "array.npz")
    return tmp_path


@pytest.mark.parametrize(
    "load", [read_network, LMUClassifier.load, L2MU.load, load_mnist_npz, load_braille_npz]
)
def test_loaders_name_a_wrong_file(load, wrong_files):
    """A text file or an .npy is named as such."""
    with pytest.raises(
        ValidationError,
        match="notes.npz' is not an .npz archive|"
        "notes.npz' is not a saved nengo_lmu "
        "network: not an .npz archive",
    ):
        load(wrong_files / "notes.npz")
    with pytest.raises(
        ValidationError, match="array.npz' is (not a saved nengo_lmu network: )?a .npy array"
    ):
        load(wrong_files / "array.npz")


def test_save_gives_files_the_users_umask(tmp_path, make_lmu_classifier):
    """Issue 27 item 5: save() wrote 0600 whatever the umask, and re-saving
    turned an existing 0644 file into 0600."""
    clf = make_lmu_classifier()
    old = os.umask(0o022)
    try:
        clf.save(tmp_path / "a.npz")
        assert os.stat(tmp_path / "a.npz").st_mode & 0o777 == 0o644
        os.umask(0o027)
        clf.save(tmp_path / "b.npz")
        assert os.stat(tmp_path / "b.npz").st_mode & 0o777 == 0o640
        os.chmod(tmp_path / "a.npz", 0o664)  # an existing file keeps its mode
        clf.save(tmp_path / "a.npz")
        assert os.stat(tmp_path / "a.npz").st_mode & 0o777 == 0o664
    finally:
        os.umask(old)
    assert sorted(os.listdir(tmp_path)) == ["a.npz", "b.npz"]  # no temporary left


def test_save_names_the_users_path_for_a_folder(tmp_path, make_lmu_classifier):
    """Issue 27 item 10: save() into a folder named the temporary file."""
    (tmp_path / "m.npz").mkdir()
    with pytest.raises(ValidationError, match="m.npz' is a folder; give a file name"):
        make_lmu_classifier().save(tmp_path / "m.npz")


def test_load_names_a_folder_and_a_file_of_another_format(tmp_path):
    """Issue 27 item 10: LMUClassifier.load of a folder, or of ``x.h5``
    ("no such file: 'x.h5.npz'")."""
    (tmp_path / "runs").mkdir()
    with pytest.raises(ValidationError, match="runs' is a folder, not a saved network"):
        LMUClassifier.load(tmp_path / "runs")
    (tmp_path / "x.h5").write_bytes(b"HDF")
    with pytest.raises(ValidationError, match="x.h5' is not a saved nengo_lmu network: "):
        LMUClassifier.load(tmp_path / "x.h5")
    with pytest.raises(ValidationError, match="no such file: .*y.npz"):
        LMUClassifier.load(tmp_path / "y")


def test_save_into_a_folder_or_an_unwritable_place_names_the_users_path(
    tmp_path, make_lmu_classifier, monkeypatch
):
    """Issue 27 item 10: save() of a folder's name wrote 'runs.npz' beside
    it (or a hidden '.npz' inside it for 'runs/'), and a folder that refuses
    the write (root on /proc) raised FileNotFoundError naming the
    temporary file."""
    import tempfile

    clf = make_lmu_classifier()
    (tmp_path / "runs").mkdir()
    for given in (tmp_path / "runs", f"{tmp_path / 'runs'}{os.sep}"):
        with pytest.raises(ValidationError, match="runs/?' is a folder; give a file name"):
            clf.save(given)
    assert sorted(os.listdir(tmp_path)) == ["runs"] and not os.listdir(tmp_path / "runs")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ValidationError, match="cannot write '.*m.npz': Permission denied"):
        clf.save(tmp_path / "m")
    monkeypatch.undo()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(ValidationError, match="cannot write '.*m.npz': No space left"):
        clf.save(tmp_path / "m")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["runs"]  # no temporary file left


def test_load_of_a_missing_file_names_the_users_path_first(tmp_path):
    with pytest.raises(ValidationError, match=r"no such file: '.*x.h5' \(nor '.*x.h5.npz'"):
        LMUClassifier.load(tmp_path / "x.h5")


def test_the_temporary_folder_is_the_sessions_own():
    """Issue 27 item 14: the suite's temporary files go to a folder of the
    session's own, which the root conftest checks and removes."""
    import tempfile

    folder = tempfile.gettempdir()
    assert os.path.basename(folder).startswith("nengo_lmu-tests-")
    assert os.environ["TMPDIR"] == folder
