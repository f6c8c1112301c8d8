"""A long network build's progress on a nengo progress bar."""

from nengo.exceptions import ValidationError
from nengo.utils.progress import Progress, ProgressBar, to_progressbar

#: Neural builds that make at least this many connections report their
#: progress: a memory of order 300 (one population per state) makes 90,000
#: of them and takes most of a minute to build; small networks stay silent.
PROGRESS_MIN_CONNECTIONS = 2000


def check_progress_bar(progress_bar, obj=None):
    """``True`` (nengo's default bar), ``False``/``None`` (none) or a
    `nengo.utils.progress.ProgressBar`."""
    if progress_bar is None or isinstance(progress_bar, (bool, ProgressBar)):
        return progress_bar
    raise ValidationError(
        f"must be a bool, None or a nengo.utils.progress.ProgressBar, got {progress_bar!r}",
        attr="progress_bar",
        obj=obj,
    )


class BuildProgress:
    """Progress of a long network build on a nengo progress bar.

    Active only when the build makes at least ``PROGRESS_MIN_CONNECTIONS``
    connections and ``progress_bar`` is not ``False``/``None``; ``True``
    takes nengo's default bar (`nengo.rc`), which shows itself only when the
    build will take more than a second.

    Parameters
    ----------
    progress_bar : bool, None or nengo.utils.progress.ProgressBar
    n_steps : int
        Steps of the build (``step`` is called once per step).
    n_connections : int
        Connections the build makes (decides whether to report).

    Examples
    --------
    >>> with BuildProgress(True, n_steps=3, n_connections=10) as progress:
    ...     for _ in range(3):
    ...         progress.step()
    >>> progress.active
    False
    """

    def __init__(self, progress_bar, n_steps, n_connections):
        self.active = (
            progress_bar is not None
            and progress_bar is not False
            and n_connections >= PROGRESS_MIN_CONNECTIONS
        )
        self.bar = to_progressbar(progress_bar) if self.active else None
        self.progress = Progress(
            f"Building {n_connections} connections", "Built the network", max_steps=n_steps
        )

    def __enter__(self):
        if self.active:
            self.progress.__enter__()
        return self

    def step(self):
        """One step of the build done."""
        if self.active:
            self.progress.step()
            self.bar.update(self.progress)

    def __exit__(self, *exc):
        if self.active:
            self.progress.__exit__(*exc)
            self.bar.update(self.progress)
            self.bar.close()
