"""What a stored round-trip model records next to itself: the environment
that made it, a few inputs and the Keras model's outputs on them (the
``write_round_trip_file`` scripts of test_convert.py and test_lmuformer.py)."""

import json
import sys

import nengo
import numpy as np


def write_io(path, model, x):
    """Write ``{made_with, x, keras}`` for the first three inputs as JSON to
    ``path`` (a `pathlib.Path`)."""
    from nengo_lmu.dl.compat import backend_name, keras

    made_with = f"keras {keras.__version__} ({backend_name()}), numpy {np.__version__}, "
    made_with += f"nengo {nengo.__version__}, Python {sys.version.split()[0]}"
    outputs = model.predict(x[:3], verbose=0).tolist()
    path.write_text(json.dumps(dict(made_with=made_with, x=x[:3].tolist(), keras=outputs)))
