import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.metrics import delayed_nrmse, nrmse


def test_nrmse_values(rng):
    target = rng.randn(1000)
    assert nrmse(target, target) == 0
    assert np.isclose(nrmse(np.zeros(1000), target), 1.0)
    assert np.isclose(nrmse(1.1 * target, target), 0.1)
    per_dim = nrmse(np.zeros((50, 2)), np.ones((50, 2)), axis=0)
    assert np.allclose(per_dim, [1, 1])


def test_nrmse_checks():
    with pytest.raises(ValidationError, match="y: must have the target's shape"):
        nrmse(np.ones(3), np.ones(4))
    with pytest.raises(ValidationError, match="y: must be finite, got nan"):
        nrmse(np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(ValidationError, match="target: is zero everywhere"):
        nrmse(np.ones(3), np.zeros(3))


def test_delayed_nrmse_finds_the_lag(rng):
    u = np.convolve(rng.randn(2000), np.ones(20) / 20, mode="same")
    y = np.concatenate([np.zeros(13), u[:-13]])  # u delayed by 13 steps
    score, best, best_score = delayed_nrmse(y, u, delay=10, start=100, lags=5)
    assert best == 13 and best_score == 0 and score > 0.05
    score, best, _ = delayed_nrmse(y, u, delay=13, start=100)
    assert score == 0 and best == 13
    with pytest.raises(ValidationError, match="start: must be in"):
        delayed_nrmse(y, u, delay=10, start=12, lags=5)
    with pytest.raises(ValidationError, match="y: must have u's shape"):
        delayed_nrmse(y[:-1], u, delay=1, start=5)
