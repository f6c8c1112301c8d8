"""One save format (nengo_lmu.networks.saving) for every trained network."""

import json

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.networks import L2MU, LMUClassifier, RecurrentLIF
from nengo_lmu.networks.saving import FORMAT_VERSION, read_network


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


def classifier(seed=3):
    return LMUClassifier(
        3,
        [dict(units=5, order=4, theta=8.0, hidden_neuron_type=nengo.RectifiedLinear())],
        seed=seed,
        add_to_container=False,
    )


def spiking(cls, seed=2):
    if cls is L2MU:
        return L2MU(
            6, 4, memory_size=3, order=4, theta=6.0, hidden_size=12, seed=seed, threshold_h=0.3
        )
    return RecurrentLIF(6, 4, 9, seed=seed, beta_h=0.3)


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert set(wa) == set(wb)
    for k in wa:
        assert np.array_equal(wa[k], wb[k]) and wa[k].dtype == wb[k].dtype, k


@pytest.mark.parametrize("cls", [LMUClassifier, L2MU, RecurrentLIF])
def test_files_of_development_formats_are_refused(cls, tmp_path):
    # nengo_lmu 0.1.0 is the first release: no earlier format is read
    path = tmp_path / "old.npz"
    if cls is LMUClassifier:
        old_lmu_classifier_save(classifier(), path)
        why = "unsupported format version 1 .this nengo_lmu reads 2."
    else:
        old_spiking_save(spiking(cls), path)
        why = "no '__config__' header among its arrays"
    with pytest.raises(ValidationError, match=why) as e:
        cls.load(path)
    assert str(path) in str(e.value)


def test_every_network_saves_in_the_one_format(tmp_path):
    nets = [
        ("LMUClassifier", classifier()),
        ("L2MU", spiking(L2MU)),
        ("RecurrentLIF", spiking(RecurrentLIF)),
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


def test_wrong_kind_and_bad_files_are_named(tmp_path):
    spiking(L2MU).save(tmp_path / "l2mu.npz")
    with pytest.raises(
        ValidationError, match="holds a saved L2MU, which LMUClassifier cannot rebuild"
    ):
        LMUClassifier.load(tmp_path / "l2mu.npz")
    classifier().save(tmp_path / "clf.npz")
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
