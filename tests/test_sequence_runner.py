"""`nengo_lmu.networks.sequence_runner.run_sequences`: the one runner of
sequence batches."""

import nengo
import numpy as np
import pytest

from nengo_lmu.networks.classifier import SequenceInput
from nengo_lmu.networks.sequence_runner import run_sequences


def filtered(x, play):
    """A lowpass-filtered input (state that a reset must clear)."""
    with nengo.Network() as net:
        stim = nengo.Node(play, size_out=x.shape[2])
        out = nengo.Node(size_in=x.shape[2])
        nengo.Connection(stim, out, synapse=0.01)
        probe = nengo.Probe(out, synapse=None)
    return net, probe


def test_feed_and_back_to_back_agree_and_reset():
    x = np.random.RandomState(0).uniform(-1, 1, size=(3, 20, 2))
    seq = SequenceInput(2)
    net, probe = filtered(x, seq)
    (each,), info = run_sequences(net, [probe], 20, 3, feed=seq.feed(x))
    assert each.shape == (3, 20, 2) and info["dt"] == 0.001
    # each sequence from rest: the same as a simulator of its own
    for i in range(3):
        alone, p = filtered(x[i : i + 1], nengo.processes.PresentInput(x[i], 0.001))
        with nengo.Simulator(alone, progress_bar=False) as sim:
            sim.run_steps(20)
        assert np.allclose(each[i], sim.data[p])
    # back to back, the sequences carry over (no reset): the first agrees,
    # the next start from where the previous one left
    net2, probe2 = filtered(x, nengo.processes.PresentInput(x.reshape(60, 2), 0.001))
    (chain,), _ = run_sequences(net2, [probe2], 20, 3)
    assert np.allclose(chain[0], each[0])
    assert not np.allclose(chain[1], each[1])


def test_progress_and_inspect():
    x = np.zeros((4, 5, 1))
    seq = SequenceInput(1)
    net, probe = filtered(x, seq)
    seen = []

    def progress(items):
        seen.append(len(items))
        return items

    _, info = run_sequences(
        net, [probe], 5, 4, feed=seq.feed(x), progress=progress, inspect=lambda s: {"n": s.n_steps}
    )
    assert seen == [4] and info["n"] == 5


@pytest.mark.parametrize("kwargs", [dict(n_steps=0), dict(n_sequences=-1)])
def test_bad_counts(kwargs):
    net, probe = filtered(np.zeros((1, 2, 1)), [0.0])
    args = dict(n_steps=2, n_sequences=1)
    args.update(kwargs)
    with pytest.raises(nengo.exceptions.ValidationError):
        run_sequences(net, [probe], **args)
