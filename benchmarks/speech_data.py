"""How the LMUFormer's accuracy grows with data and with each augmentation.

Generates (or reads from the cache) one large synthesised keyword set with
`nengo_lmu.apps.speech.spoken_keywords` and reports its generation time and
disk size, then trains the non-spiking LMUFormer with the existing training
path (`nengo_lmu.apps.experiments.lmuformer.compare_lmuformer`) on one seed
for each configuration and reports the held-out accuracy on unseen voices
(``test``) and on unseen voices at rates and pitches outside training's
(``far``). Smaller training sets are the first ``k`` clips per keyword of
the large one (each keyword's clips come from its own random stream, so
these are exactly the sets ``spoken_keywords(n_train=k)`` makes).

Examples::

    python benchmarks/speech_data.py --sizes 40 100 200 400 --epochs 8
    python benchmarks/speech_data.py --sizes 200 --pieces none roll noise masks mixup all
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from nengo_lmu.apps.augment import PRESETS
from nengo_lmu.apps.speech import cache_path, spoken_keywords

#: The recipe's pieces, as measured one at a time (and all together).
PIECES = dict(PRESETS, all=PRESETS["seed"])


def subset(data, k, n_max):
    """The first ``k`` training clips of every keyword."""
    keep = np.flatnonzero(np.arange(len(data["y_train"])) % n_max < k)
    out = dict(data)
    for key in ("x_train", "y_train", "voices_train", "rates_train", "pitches_train"):
        out[key] = data[key][keep]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-train", type=int, default=400, help="clips per keyword made")
    parser.add_argument("--n-test", type=int, default=20)
    parser.add_argument("--n-mels", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 100, 200, 400])
    parser.add_argument("--pieces", nargs="+", default=["none"], choices=sorted(PIECES))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", default=None, help="append one JSON line per run here")
    args = parser.parse_args(argv)

    data = spoken_keywords(
        n_train=args.n_train,
        n_test=args.n_test,
        n_mels=args.n_mels,
        workers=args.workers,
        progress=True,
    )
    path = cache_path(
        data["keywords"],
        dict(
            counts=dict(train=args.n_train, test=args.n_test, far=args.n_test),
            n_mels=args.n_mels,
            test_fraction=0.2,
            snr_db=[10.0, 30.0],
            max_shift=0.15,
            seed=0,
            split_seed=0,
        ),
    )
    size = os.path.getsize(path) / 2**20 if path.exists() else float("nan")
    print(
        f"data: {len(data['x_train'])} train / {len(data['x_test'])} test / "
        f"{len(data['x_far'])} far clips, {args.n_mels} mel bins; generated in "
        f"{data['seconds']:.0f} s; {size:.1f} MiB on disk ({path.name})"
    )
    sys.stdout.flush()
    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer

    for k in args.sizes:
        part = subset(data, k, args.n_train)
        for piece in args.pieces:
            t0 = time.perf_counter()
            result = compare_lmuformer(
                data=part,
                dim=args.dim,
                epochs=args.epochs,
                seeds=[args.seed],
                models=["lmuformer"],
                stream_clips=0,
                augmentation=PIECES[piece],
            )
            run = result.runs[0]
            row = dict(
                clips_per_keyword=k,
                augmentation=piece,
                recipe=PIECES[piece].describe(),
                epochs=args.epochs,
                dim=args.dim,
                n_mels=args.n_mels,
                seed=args.seed,
                test=round(run.test_accuracy, 4),
                far=round(run.far_accuracy, 4),
                params=run.params,
                s_per_epoch=round(run.epoch_seconds, 1),
                seconds=round(time.perf_counter() - t0, 1),
            )
            print(json.dumps(row))
            sys.stdout.flush()
            if args.out:
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
