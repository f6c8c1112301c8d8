"""``nengo-lmu export-nir``: a saved spiking classifier as a NIR graph."""

from nengo_lmu.apps.cli.common import POSITIVE_FLOAT, add_command, check_saved_network, output
from nengo_lmu.nir.conventions import APPROXIMATIONS

#: the NIR conventions of the readers the command knows (see `nengo_lmu.nir`)
READERS = ("nir", "snntorch")

#: export-nir's options
EXPORT_NIR_OPTIONS = (
    (
        "--approximate",
        tuple(APPROXIMATIONS),
        None,
        f"approximations to allow: {', '.join(APPROXIMATIONS)} (see docs/nir.rst); an L2MU or RecurrentLIF always needs discrete (its neurons are "
        "defined per step), and reset unless it was made with reset='zero'",
        {"nargs": "+", "metavar": "NAME"},
    ),
    (
        "--reader",
        READERS,
        "nir",
        "whose conventions: nir (NIR's own: a spike is an impulse of area 1, one-step "
        "delays as Delay nodes, the network's dt) or snntorch (steps of 1e-4 s, a spike "
        "is the number 1, r = tau / 1e-4, delays as cycles; implies --approximate discrete)",
    ),
    (
        "--dt",
        POSITIVE_FLOAT,
        None,
        "seconds one step lasts in the graph (default: the network's dt, or 1e-4 with "
        "--reader snntorch)",
    ),
    (
        "--discrete",
        ("euler", "exp"),
        "euler",
        "how a per-step decay beta becomes tau: dt / (1 - beta) (exact in Euler readers) "
        "or -dt / log(beta)",
    ),
)


def add_export_nir_parser(sub):
    add_command(
        sub,
        "export-nir",
        export_nir_command,
        EXPORT_NIR_OPTIONS,
        force=True,
        positionals=(
            ("MODEL", "a spiking classifier saved with L2MU.save or RecurrentLIF.save"),
            ("OUT", "the NIR file to write (HDF5, read with nir.read)"),
        ),
        help="write a saved L2MU or RecurrentLIF as a NIR graph",
        description=(
            "Write a spiking classifier saved by this package (L2MU, RecurrentLIF) as a "
            "NIR graph (the Neuromorphic Intermediate Representation) that snnTorch, "
            "Norse, Lava-DL, SpiNNaker2, Rockpool and Sinabs read. Whatever NIR cannot "
            "say exactly is refused, named, unless allowed with --approximate."
        ),
    )


def export_nir_command(args):
    from nengo_lmu.info import require_extra
    from nengo_lmu.networks.spiking_classifier import SpikingClassifier

    require_extra("nir", "nengo-lmu export-nir")
    check_saved_network(args.MODEL, "MODEL", sorted(SpikingClassifier.subclasses))
    out = output(args.OUT, args, "NIR graph", flag="OUT")
    allowed = tuple(args.approximate or ())
    graph, made = export_model(args.MODEL, out, allowed, args.reader, args.dt, args.discrete)
    kinds = sorted({type(n).__name__ for n in graph.nodes.values()} - {"Input", "Output"})
    print(f"Wrote {out}: {len(graph.nodes)} NIR nodes ({', '.join(kinds)})")
    if made:
        print("Approximated:")
        for name in made:
            print(f"  {name}: {APPROXIMATIONS[name]}")
    else:
        print("Exact: nothing was approximated.")
    return 0


def export_model(model, out, allowed, reader="nir", dt=None, discrete="euler"):
    """Load the classifier saved at ``model``, write it to ``out`` as a NIR
    graph and return ``(graph, approximations made)``.

    An export that needs approximations not in ``allowed`` is refused with a
    `ValidationError` (``--approximate``) that names all of them."""
    import nir
    from nengo.exceptions import ValidationError

    from nengo_lmu.networks.spiking_classifier import SpikingClassifier
    from nengo_lmu.nir import readers, to_nir

    net = SpikingClassifier.load(model)
    options = readers.snntorch_options(net) if reader == "snntorch" else {}
    allowed = tuple(dict.fromkeys(options.pop("approximate", ()) + tuple(allowed)))
    if dt is not None:
        options["dt"] = dt
    options["discrete"] = discrete
    try:
        graph = to_nir(net, approximate=allowed, **options)
    except ValidationError as e:
        if e.attr != "approximate":
            raise
        needed = approximations_needed(net, options)
        missing = [a for a in needed if a not in allowed]
        listed = "; ".join(f"{a} ({APPROXIMATIONS[a]})" for a in missing)
        raise ValidationError(
            f"{model!r} cannot be written exactly in NIR: it needs {listed}. Pass "
            f"--approximate {' '.join(needed)} to write it anyway",
            attr="--approximate",
        ) from None
    nir.write(out, graph)
    return graph, approximations_made(graph)


def approximations_needed(net, options):
    """The approximations an export of ``net`` with ``options`` makes when
    all are allowed."""
    from nengo_lmu.nir import to_nir

    return approximations_made(to_nir(net, approximate=tuple(APPROXIMATIONS), **options))


def approximations_made(graph):
    """The approximations recorded in a graph written by `to_nir`."""
    text = graph.metadata.get("nengo_lmu.approximations", "")
    return [a for a in str(text).split(";") if a]
