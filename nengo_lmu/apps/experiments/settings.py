"""The settings of an experiment: a frozen dataclass that states each default once.

Each field is made with `setting`, which keeps its help text, the command
line's spelling where it differs from the field's name, and its value in a
quick run (``--quick``). The experiment function takes the dataclass (or its
fields as keywords, `resolve`); the ``nengo-lmu`` command makes its options
from the fields (`nengo_lmu.apps.cli.common.settings_options`), so that a
default is written in one place.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     order: int = setting(6, "memory order", quick=2)
...     seed: int = setting(0, "seed", positive=False)
>>> resolve(Demo, None, {"seed": 3})
Demo(order=6, seed=3)
>>> quick_values(Demo)
{'order': 2}
"""

import dataclasses


def setting(
    default,
    help,
    flag=None,
    choices=None,
    quick=None,
    shown=None,
    positive=True,
    optional=False,
    nargs=None,
    item_type=None,
    minimum=None,
):
    """A field of a settings dataclass.

    Parameters
    ----------
    default
        The value of the setting.
    help : str
        What it sets, for ``--help``. Where it contains ``{default}`` (and
        ``{quick}``), they are filled in; otherwise a setting with a
        ``quick`` value gets ``(default D; Q with --quick)`` appended.
    flag : str, optional
        The command line's option (default ``--`` and the field's name with
        dashes). A boolean setting that defaults to true is switched off by a
        flag starting ``--no-``.
    choices : tuple, optional
        The allowed values.
    quick : optional
        The value in a quick run, where it differs.
    shown : str, optional
        How ``--help`` shows the default (instead of the value).
    positive : bool
        Whether a number must be > 0 on the command line (else >= 0).
    optional : bool
        Whether the command line leaves the option unset (None) when it is
        not given, so that the command can tell (as a setting with a
        ``quick`` value does).
    nargs : str, optional
        For a setting that is a tuple: argparse's ``nargs`` (``"+"``).
    item_type : type, optional
        For a tuple setting: the type of each item (``int``, ``float``).
    minimum : number, optional
        The smallest value the command line accepts (instead of > 0).
    """
    metadata = dict(
        help=help,
        flag=flag,
        choices=choices,
        quick=quick,
        shown=shown,
        positive=positive,
        optional=optional,
        nargs=nargs,
        item_type=item_type,
        minimum=minimum,
    )
    return dataclasses.field(default=default, metadata=metadata)


def resolve(cls, settings, overrides):
    """``settings`` (an instance of ``cls``; None for the defaults) with the
    fields in ``overrides`` replaced (a `TypeError` names an unknown one)."""
    return dataclasses.replace(cls() if settings is None else settings, **overrides)


def quick_values(cls):
    """``{field: value}`` of the settings that a quick run changes."""
    return {
        f.name: f.metadata["quick"]
        for f in dataclasses.fields(cls)
        if f.metadata.get("quick") is not None
    }


@dataclasses.dataclass(frozen=True)
class LoihiSettings:
    """The settings of ``nengo-lmu loihi``: the delay task, a digits classifier
    with its memory on the host, and a row-digits classifier with its memory
    on the chip, each on nengo and on the nengo-loihi emulator
    (`nengo_lmu.apps.experiments.loihi`, whose functions take their defaults
    from here)."""

    theta: float = setting(0.1, "delay window in seconds")
    order: int = setting(6, "Legendre coefficients of the delay memory")
    n_neurons: int = setting(
        None, "neurons per memory dimension (default: LoihiLegendreMemory's, 200)"
    )
    duration: float = setting(10.0, "simulated seconds of the delay task")
    discard: float = setting(
        1.0, "seconds at the start left out of the delay score", positive=False
    )
    seed: int = setting(0, "seed of the input, the networks and of training", positive=False)
    weights: str = setting(
        None,
        "a digits classifier saved with LMUClassifier.save (one cell, "
        "RectifiedLinear hidden layer, no hidden_to_hidden); without it "
        "one is trained in parallel (Keras, seconds) and saved to --save",
    )
    save: str = setting(
        "lmu_digits_loihi.npz", "where to save the classifier trained when --weights is absent"
    )
    epochs: int = setting(20, "training epochs when --weights is absent")
    gain: float = setting(
        300.0,
        "gain of the spiking hidden neurons (rate = gain * h Hz; a "
        "Loihi neuron spikes at most once per step)",
    )
    hold_steps: int = setting(40, "steps the last sample of each sequence is held")
    window: int = setting(20, "logits: the readout averaged over the hold's last WINDOW steps")
    neuron_type: str = setting(
        "loihi",
        "hidden neurons in the nengo reference: nengo-loihi's "
        "LoihiSpikingRectifiedLinear or nengo.SpikingRectifiedLinear",
        choices=("loihi", "ideal"),
    )
    n_test: int = setting(None, "held-out digit sequences to score (the first N; all by default)")
    targets: str = setting("sim,simreal", "emulator targets, comma separated: sim, simreal")
    chip_weights: str = setting(
        None,
        "a row-digits classifier for the whole LMU on the chip, saved with "
        "LMUClassifier.save (one cell, RectifiedLinear, no recurrence, no "
        "input_to_hidden); without it one is trained (seconds) and saved to --chip-save",
    )
    chip_save: str = setting(
        "lmu_chip_digits_loihi.npz",
        "where to save the chip classifier trained when --chip-weights is absent",
    )
    chip_n_test: int = setting(
        200, "held-out row-digit sequences scored with the whole LMU on the chip (the first N)"
    )
    steps_per_sample: int = setting(
        10, "chip steps each sample is held for (the whole LMU on the chip)"
    )
    chip_neurons: int = setting(
        100, "LIF neurons per memory dimension (the whole LMU on the chip)"
    )
    readout: str = setting(
        "fit",
        "chip digits: the host readout fitted on the hidden spikes over training "
        "sequences (to the rate network's logits), or the trained one",
        choices=("fit", "trained"),
    )
    n_fit: int = setting(
        400,
        "chip digits: training sequences the readout is fitted on (each is run on "
        "nengo and on every target)",
    )
    fit_on: str = setting(
        "own",
        "chip digits: fit the readout on each simulator's own spikes, or on "
        "nengo's and use it everywhere",
        choices=("own", "nengo"),
    )
    delay: bool = setting(True, "skip the delay task", flag="--no-delay")
    digits: bool = setting(
        True, "skip the digits task with the memory on the host", flag="--no-digits"
    )
    chip_digits: bool = setting(
        True, "skip the digits task with the whole LMU on the chip", flag="--no-chip-digits"
    )

    @property
    def target_names(self):
        """``targets`` as a tuple of names."""
        return tuple(t.strip() for t in self.targets.split(",") if t.strip())


__all__ = ["LoihiSettings", "quick_values", "resolve", "setting"]


# k3lm: the settings of ``nengo-lmu train-lm`` (the language model)


@dataclasses.dataclass(frozen=True)
class TrainLMSettings:
    """The settings of `nengo_lmu.apps.experiments.language_model.train_lm`
    (and of ``nengo-lmu train-lm``, whose options are made from them)."""

    model: str = setting(
        "lmu",
        "the LMU model, the same with global attention, or the transformer",
        choices=("lmu", "lmu_global", "transformer"),
    )
    params: int = setting(
        20_000, "non-embedding parameters (d = sqrt(N/24))", quick=10_000, minimum=100
    )
    tokens: int = setting(200_000, "training token budget", quick=20_000)
    seq_len: int = setting(256, "bytes per sequence", quick=64)
    batch_size: int = setting(8, "sequences per training step")
    order: int = setting(40, "LMU memory order q")
    theta: float = setting(128.0, "LMU memory window in tokens (> 1)")
    lr: float = setting(3e-3, "peak learning rate")
    seed: int = setting(0, "seed of the initial weights and the batch order", positive=False)
    data: str = setting(
        None,
        "a directory of text files (default: the Python standard library)",
        optional=True,
    )
    max_files: int = setting(None, "use only this many files of the corpus", quick=40, shown="all")
    checkpoint: str = setting("lm_checkpoint", "checkpoint directory")
    checkpoint_every: int = setting(100, "steps between checkpoints")
    progress: bool = setting(True, "no progress bar", flag="--no-progress")

    def run_settings(self):
        """The settings a resumed run must repeat (all but where and how
        often it saves, and the progress bar)."""
        skip = ("checkpoint", "checkpoint_every", "progress")
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


__all__ += ["TrainLMSettings"]


# k3former: the LMUFormer comparison (`nengo_lmu.apps.experiments.lmuformer`)

from nengo_lmu.apps.augment import PRESETS as _AUGMENT_PRESETS  # noqa: E402

#: The models `compare_lmuformer` can train, by name.
LMUFORMER_MODELS = (
    "lmuformer",
    "lmuformer_la5",
    "spiking_lmuformer",
    "spiking_lmuformer_la5",
    "lmu",
    "lstm",
)

#: The models `compare_lmuformer` trains by default: the LMUFormer (causal and
#: with the published look-ahead), the causal spiking LMUFormer, the plain LMU
#: and the LSTM.
LMUFORMER_DEFAULT_MODELS = tuple(m for m in LMUFORMER_MODELS if m != "spiking_lmuformer_la5")

#: Where a spiking LMUFormer of `compare_lmuformer` starts (``spiking_init``).
SPIKING_INITS = ("scratch", "lmuformer")


@dataclasses.dataclass(frozen=True)
class LMUFormerSettings:
    """The settings of `compare_lmuformer` and of ``nengo-lmu train-lmuformer``."""

    keywords: str = setting(
        None, "comma-separated Speech Commands words (default: all 35)", optional=True
    )
    n_train: int = setting(400, "training clips per keyword")
    n_test: int = setting(
        20, "test clips per keyword (unseen voices; as many again at far rates and pitches)"
    )
    n_mels: int = setting(20, "mel bins (features per frame)")
    dim: int = setting(64, "LMUFormer width (memory order dim, 2 * dim when spiking)")
    epochs: int = setting(
        10, "training epochs (of the spiking LMUFormers: --finetune-epochs)", quick=3
    )
    seeds: tuple = setting(
        (0,),
        "seeds (one training run per model and seed, on the same data)",
        nargs="+",
        item_type=int,
        positive=False,
    )
    models: tuple = setting(
        LMUFORMER_DEFAULT_MODELS,
        "the models trained",
        nargs="+",
        choices=LMUFORMER_MODELS,
    )
    batch_size: int = setting(64, "minibatch size")
    learning_rate: float = setting(
        3e-3, "Adam's learning rate (cosine decay to 0 over the epochs)"
    )
    lmu_order: int = setting(32, "memory order of the plain LMU")
    lmu_memory_d: int = setting(8, "memories (u channels) of the plain LMU")
    augment: str = setting(
        "none",
        "augmentation of the training features (nengo_lmu.apps.augment.PRESETS)",
        choices=tuple(_AUGMENT_PRESETS),
    )
    augment_seed: int = setting(
        0, "seeds the augmentation (with the model's seed)", positive=False
    )
    stream_clips: int = setting(
        100,
        "test clips streamed frame by frame through the nengo network (0: none)",
        positive=False,
        quick=20,
    )
    stream_dtype: str = setting(
        "float64",
        "precision of the streamed run (float64: spike for spike)",
        choices=("float32", "float64"),
    )
    out: str = setting("lmuformer-results", "folder for model/, results.json and frames.png")
    cache_dir: str = setting(None, "cache of generated data", optional=True)
    spiking_init: str = setting(
        "lmuformer",
        "start of the spiking LMUFormers: their own random weights, or the trained "
        "non-spiking LMUFormer of the same seed and look-ahead (trained first), fine-tuned",
        choices=SPIKING_INITS,
    )
    surrogate_alpha: float = setting(
        2.0, "width of the spiking LMUFormers' ATan surrogate gradient (spikingjelly's 2)"
    )
    finetune_epochs: int = setting(
        15,
        "epochs of a spiking LMUFormer started from the trained LMUFormer",
        quick=3,
    )
    checkpoint: str = setting(
        None,
        "folder of the training checkpoints: one sub-folder per model and seed, written "
        "every epoch (--resume continues an interrupted run there)",
        optional=True,
    )

    def run_settings(self):
        """The settings a resumed comparison must repeat (JSON values): all
        but where it writes (``out``, ``cache_dir``, ``checkpoint``)."""
        import json  # pylint: disable=import-outside-toplevel

        skip = ("out", "cache_dir", "checkpoint")
        run = {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}
        return json.loads(json.dumps(run))


__all__ += ["LMUFORMER_MODELS", "LMUFORMER_DEFAULT_MODELS", "SPIKING_INITS", "LMUFormerSettings"]
