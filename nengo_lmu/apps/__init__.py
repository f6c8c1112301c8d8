"""The applications built on nengo_lmu: experiments, the command line, data.

Everything outside this package is the library (the systems, the networks,
the NengoDL and nengo-loihi backends); everything in it uses the library to
run the comparisons this project reports:

- `nengo_lmu.apps.experiments`: one function per experiment, returning a
  dataclass of results;
- `nengo_lmu.apps.cli`: the ``nengo-lmu`` command, which parses, calls an
  experiment and prints its table;
- the data sources: `nengo_lmu.apps.data` (digits, psMNIST, event digits,
  Braille), `nengo_lmu.apps.speech` (spoken keywords) and
  `nengo_lmu.apps.audio` (their log-mel features);
- `nengo_lmu.apps.tasks` (the delay task) and `nengo_lmu.apps.plots`.

The library never imports this package (``tests/test_layering.py`` checks
it), so an application can change without touching what users build on.
This package imports none of its modules.
"""
