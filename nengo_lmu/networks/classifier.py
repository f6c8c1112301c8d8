"""A sequence classifier built from LMU cells, with saving and loading."""

import ast

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.cell_options import SAVED_OPTIONS
from nengo_lmu.networks.lmu_cell import LMUCell, stack_cells
from nengo_lmu.networks.saving import (
    check_kind,
    check_weight_names,
    read_network,
    save_network,
)
from nengo_lmu.networks.sequence_runner import run_sequences
from nengo_lmu.networks.weights import initial_weights, transform_matrix
from nengo_lmu.validation import check_int, check_seed

#: LMUCell attributes stored with saved parameters (with ``order``, ``theta``
#: and ``hidden_neuron_type``; not the initialisers, which trained weights
#: replace, nor the network's own label/container): the ``saved`` options of
#: `nengo_lmu.cell_options`.
CELL_ARGS = SAVED_OPTIONS


def _neuron_type_to_str(neuron_type):
    # nengo neuron types have a complete repr: "Name(arg=value, ...)"
    return repr(neuron_type)


def _neuron_type_from_str(text):
    """Parse ``"Name(arg=constant, ...)"`` into a nengo neuron type, safely
    (no eval: only nengo's neuron classes and literal arguments)."""
    try:
        call = ast.parse(text, mode="eval").body
        cls = getattr(nengo.neurons, call.func.id)
        if not (isinstance(cls, type) and issubclass(cls, nengo.neurons.NeuronType)):
            raise TypeError(f"{call.func.id} is not a neuron type")
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
        return cls(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - any failure means a bad file
        raise ValidationError(
            f"cannot rebuild neuron type {text!r}: {e}", attr="hidden_neuron_type"
        ) from None


class SequenceInput:
    """Node output that plays one sequence, one sample per step."""

    def __init__(self, d):
        self.data = np.zeros((1, d))
        self.dt = 0.001

    def __call__(self, t):
        # nengo calls the node at t = dt, 2 dt, ...: step k plays data[k - 1]
        step = int(round(t / self.dt)) - 1
        return self.data[min(max(step, 0), len(self.data) - 1)]

    def feed(self, x):
        """``feed(i, sim)`` for `.run_sequences`: play sequence ``x[i]``."""

        def play(i, sim):
            self.data = x[i]
            self.dt = sim.dt

        return play


class LMUClassifier(nengo.Network):
    """LMU cells followed by a linear readout: a sequence classifier.

    Each simulator step is one sample; the class scores (logits) are the
    ``readout`` node's value on the last step. For NengoDL, feed the input
    node data of shape ``(batch, n_steps, input_d)`` and train on the
    ``probe`` (see `nengo_lmu.dl.train_classifier`).

    Parameters
    ----------
    n_classes : int
        Number of classes (readout dimensions).
    cells : list of dict
        Arguments of each `.LMUCell`, first to last. The first cell's
        ``input_d`` is the input's dimension; each later cell's ``input_d``
        is set to the previous cell's ``units``.
    readout_initializer : str, Distribution or array
        Initial readout weights (``(n_classes, units)``; see
        `.initial_weights`).
    seed : int, optional
        Seeds every cell's and the readout's initial weights.
    label, add_to_container
        As for `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        The input (a node with output zeros, which NengoDL feeds).
    cells : list of LMUCell
    readout : nengo.Node
        The logits.
    readout_connection : nengo.Connection
    probe : nengo.Probe
        Probe of the logits.
    """

    def __init__(
        self,
        n_classes,
        cells,
        readout_initializer="glorot_uniform",
        seed=None,
        label=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.n_classes = check_int("n_classes", n_classes, self, minimum=2)
        check_seed("seed", seed, self)
        if (
            isinstance(cells, dict)
            or not isinstance(cells, (list, tuple))
            or not cells
            or (not all(isinstance(c, dict) for c in cells))
        ):
            raise ValidationError(
                "must be a non-empty list of LMUCell argument dicts", attr="cells", obj=self
            )
        self.cell_args = [dict(c) for c in cells]
        rng = np.random.RandomState(seed)
        with self:
            self.cells = []
            input_d = self.cell_args[0].get("input_d", 1)
            for i, args in enumerate(self.cell_args):
                args = dict(args)
                if i > 0:
                    args["input_d"] = self.cells[-1].units
                args.setdefault("seed", None if seed is None else seed + i)
                args.setdefault("label", f"cell[{i}]")
                self.cells.append(LMUCell(**args))
                self.cell_args[i] = {k: args[k] for k in args if k not in ("label",)}
            self._sequence = SequenceInput(input_d)
            self.input = nengo.Node(self._sequence, size_out=input_d, label="input")
            first, last = stack_cells(self.cells)
            nengo.Connection(self.input, first, synapse=None)
            self.readout = nengo.Node(size_in=self.n_classes, label="readout")
            w = initial_weights(
                readout_initializer,
                (self.n_classes, self.cells[-1].units),
                rng,
                attr="readout_initializer",
                obj=self,
            )
            self.readout_connection = nengo.Connection(
                last, self.readout, transform=w, synapse=None
            )
            self.probe = nengo.Probe(self.readout, synapse=None, label="logits")

    @property
    def weighted_connections(self):
        """Every weighted connection by a stable name (``"cell0.W_m"``, ...)."""
        conns = {}
        for i, cell in enumerate(self.cells):
            for name, conn in cell.weights.items():
                conns[f"cell{i}.{name}"] = conn
            if cell.trainable_memory:
                for name, conn in cell.memory_weights.items():
                    conns[f"cell{i}.{name}"] = conn
        conns["readout"] = self.readout_connection
        return conns

    def get_weights(self):
        """The current weights as a dict of full matrices (copies)."""
        return {name: transform_matrix(conn) for name, conn in self.weighted_connections.items()}

    def config_dict(self):
        """Everything needed to rebuild this network (JSON-serialisable)."""
        cells = []
        for cell in self.cells:
            args = {k: getattr(cell, k) for k in CELL_ARGS}
            args["order"] = cell.memory.order
            args["theta"] = cell.memory.theta
            args["hidden_neuron_type"] = _neuron_type_to_str(cell.hidden_neuron_type)
            cells.append(args)
        return dict(
            n_classes=self.n_classes,
            cells=cells,
            seed=self.seed,
            label=self.label,
        )

    def save(self, path, weights=None):
        """Save the configuration and weights to ``path`` (``.npz``, the
        format of `nengo_lmu.networks.saving`; the suffix is added where
        missing, as `load` adds it) and return the path written.

        ``weights`` (a dict as from `get_weights`, e.g. trained ones read
        back from NengoDL) defaults to the network's current weights. Arrays
        are stored as given (dtype included), so they load back bit for bit.
        Every weight must be present, of its connection's shape and finite:
        a file that `load` would refuse is not written.
        """
        weights = self.get_weights() if weights is None else dict(weights)
        conns = self.weighted_connections
        if set(weights) != set(conns):
            raise ValidationError(
                f"must have exactly the keys {sorted(conns)}, got {sorted(weights)}",
                attr="weights",
                obj=self,
            )
        for name, w in weights.items():
            self._check_weight(name, w, conns[name])
        return save_network(path, "LMUClassifier", self.config_dict(), weights)

    def _check_weight(self, name, w, conn):
        w = np.asarray(w)
        if w.shape != (conn.post.size_in, conn.pre.size_out):
            raise ValidationError(
                f"weights[{name!r}] must have shape "
                f"{(conn.post.size_in, conn.pre.size_out)}, got {w.shape}",
                attr="weights",
                obj=self,
            )
        if w.dtype.kind not in "biuf" or not np.all(np.isfinite(w)):
            raise ValidationError(
                f"weights[{name!r}] must be finite numbers: refusing "
                f"{'NaN or inf' if w.dtype.kind in 'f' else f'dtype {w.dtype}'}",
                attr="weights",
                obj=self,
            )
        return w

    @classmethod
    def load(cls, path, overrides=None, add_to_container=None):
        """Rebuild a saved classifier with its saved weights.

        Parameters
        ----------
        path : str
            A file written by `save` (``.npz`` is added where missing). A
            file that is not a saved LMUClassifier, or lacks a weight, raises
            a `ValidationError` naming the file and what is wrong.
        overrides : dict, optional
            Cell arguments to change in every cell, e.g.
            ``{"hidden_neuron_type": nengo.SpikingRectifiedLinear(...),
            "hidden_gain": 100}`` to run a rate-trained cell with spiking
            neurons.
        """
        kind, config, weights, _ = read_network(path)
        check_kind(path, kind, ["LMUClassifier"])
        if not (
            isinstance(config, dict)
            and {"n_classes", "cells", "seed", "label"} <= set(config)
            and isinstance(config["cells"], list)
        ):
            raise ValidationError(
                f"{path!r}: the saved LMUClassifier configuration is incomplete: {config!r}",
                attr="path",
            )
        cells = []
        for args in config["cells"]:
            args = dict(args)
            args["hidden_neuron_type"] = _neuron_type_from_str(args["hidden_neuron_type"])
            args.update(overrides or {})
            cells.append(args)
        net = cls(
            config["n_classes"],
            cells,
            seed=config["seed"],
            label=config["label"],
            add_to_container=add_to_container,
        )
        check_weight_names(path, "LMUClassifier", weights, net.weighted_connections)
        net.set_weights(weights)
        return net

    def set_weights(self, weights):
        """Replace connection weights (a dict as from `get_weights`).

        nengo transforms are frozen once made, so each named connection's
        transform is replaced by a new one holding the given array.
        """
        conns = self.weighted_connections
        unknown = set(weights) - set(conns)
        if unknown:
            raise ValidationError(
                f"unknown weights {sorted(unknown)}; expected {sorted(conns)}",
                attr="weights",
                obj=self,
            )
        # every weight is checked before any is replaced: a bad dict leaves
        # the network as it was
        checked = {name: self._check_weight(name, w, conns[name]) for name, w in weights.items()}
        for name, w in checked.items():
            conns[name].transform = nengo.Dense(w.shape, init=w)

    def predict(self, x, simulator=None, progress=None, all_steps=False, **sim_kwargs):
        """Logits on the last step of each sequence, simulated one by one.

        This is the reference (``nengo.Simulator`` by default) against which
        NengoDL runs are checked, and the way to run a spiking version.

        Parameters
        ----------
        x : ndarray, shape (n, n_steps, input_d)
        simulator : callable, optional
            Simulator class or factory (default `nengo.Simulator`; see
            `.run_sequences`).
        progress : callable, optional
            Wraps the loop over sequences (e.g. ``tqdm.tqdm``).
        all_steps : bool
            Return the logits of every step, ``(n, n_steps, n_classes)``.

        Returns
        -------
        ndarray, shape (n, n_classes)
        """
        from nengo_lmu.validation import check_sequence_data

        x = np.asarray(x)
        check_sequence_data(x, n_inputs=self.input.size_out)
        sim_kwargs.setdefault("progress_bar", False)
        (out,), _ = run_sequences(
            self,
            [self.probe],
            x.shape[1],
            len(x),
            simulator=simulator,
            feed=self._sequence.feed(x),
            progress=progress,
            **sim_kwargs,
        )
        return out if all_steps else out[:, -1]


def as_classifier(classifier, obj=None):
    """An `LMUClassifier` from itself or from the path of one saved with
    `LMUClassifier.save` (loaded outside any network).

    Raises a ``ValidationError`` naming ``classifier`` for anything else.

    Examples
    --------
    >>> as_classifier(3)
    Traceback (most recent call last):
    ...
    nengo.exceptions.ValidationError: classifier: must be an LMUClassifier or the path of a saved one, got int
    """
    import os

    if isinstance(classifier, (str, os.PathLike)):
        classifier = LMUClassifier.load(classifier, add_to_container=False)
    if not isinstance(classifier, LMUClassifier):
        raise ValidationError(
            f"must be an LMUClassifier or the path of a saved one, got "
            f"{type(classifier).__name__}",
            attr="classifier",
            obj=obj,
        )
    return classifier
