"""Output files of the applications (nengo_lmu.apps.experiments.outputs):
folders checked before any work, nothing overwritten without asking, and
trained weights never lost when a save fails."""

import os

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.experiments.outputs import check_output_path, save_or_rescue
from nengo_lmu.networks import LMUClassifier


def test_save_or_rescue_keeps_trained_weights(tmp_path, make_lmu_classifier):
    """The folder vanishes after the check; the weights are not lost."""
    clf = make_lmu_classifier()
    folder = tmp_path / "gone"
    folder.mkdir()
    path = check_output_path(folder / "model", suffix=".npz")
    folder.rmdir()
    messages = []
    written = save_or_rescue(clf.save, path, log=messages.append)
    try:
        assert written != path and os.path.exists(written)
        assert path in messages[0] and written in messages[0]
        loaded = LMUClassifier.load(written)
        for k, w in clf.get_weights().items():
            assert np.array_equal(loaded.get_weights()[k], w)
    finally:
        os.remove(written)


def test_check_output_path_rules(tmp_path):
    assert check_output_path(None) is None
    assert check_output_path(tmp_path / "m", suffix=".npz") == str(tmp_path / "m.npz")
    (tmp_path / "m.npz").write_text("x")
    with pytest.raises(ValidationError, match="exists; refusing to overwrite"):
        check_output_path(tmp_path / "m", suffix=".npz")
    assert check_output_path(tmp_path / "m.npz", force=True) == str(tmp_path / "m.npz")
    with pytest.raises(ValidationError, match="is a folder, not a file"):
        check_output_path(tmp_path, force=True)


def test_experiment_checks_its_folder_before_training(tmp_path):
    """The experiment stops before loading data."""
    from nengo_lmu.apps.experiments.digits import train_digits
    from nengo_lmu.apps.experiments.l2mu import train_l2mu

    with pytest.raises(ValidationError, match="save: cannot write the trained model"):
        train_digits(save=tmp_path / "no" / "x.npz", data={"not": "used"})
    with pytest.raises(ValidationError, match="save: cannot write the trained L2MU"):
        train_l2mu(save=tmp_path / "no" / "x.npz", data={"not": "used"})
