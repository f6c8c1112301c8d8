"""Plots of nengo_lmu results (matplotlib is imported only when called).

A plot saved to a file is drawn on a bare `matplotlib.figure.Figure`, which
needs no GUI and leaves the user's backend alone; without a path the figure
comes from `matplotlib.pyplot`, to show it (e.g. in a notebook).
"""


def new_figure(path=None, figsize=(9, 4)):
    """``(fig, ax)``: a bare Figure when saving to ``path``, else pyplot's."""
    if path is None:
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=figsize)
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def plot_delay(results, path=None, theta=None, window=1.0):
    """Plot the input, its delayed copy and each result's decoded delay.

    Parameters
    ----------
    results : list of `nengo_lmu.apps.tasks.DelayResult`
        Runs of the same delay task (same input).
    path : str, optional
        Save the figure here (PNG); otherwise it is returned open.
    theta : float, optional
        The delay, for the title.
    window : float
        Seconds shown, starting one second in (after the memory filled).
    """
    first = results[0]
    t = first.t
    sel = (t >= 1.0) & (t < 1.0 + window)
    if not sel.any():
        sel = slice(None)
    fig, ax = new_figure(path, figsize=(9, 4))
    ax.plot(t[sel], first.u[sel], color="0.75", label="input u(t)")
    ax.plot(t[sel], first.delayed[sel], "k--", lw=2, label="u(t - theta)")
    for r in results:
        ax.plot(
            t[sel], r.output[sel], label=f"{r.label} ({r.n_neurons} neurons), NRMSE {r.nrmse:.3f}"
        )
    ax.set_xlabel("time (s)")
    ax.set_ylabel("value")
    title = "Legendre memory: decoded delay"
    if theta is not None:
        title += f" (theta = {theta:g} s)"
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def plot_sequence_outputs(reference, other, label, path=None, names=("Keras", "nengo.Simulator")):
    """Per-step outputs of one sequence from two runs of the same network:
    ``reference`` thick, ``other`` dashed (arrays ``(n_steps, n_outputs)``)."""
    import numpy as np

    fig, ax = new_figure(path, figsize=(8, 4))
    ax.plot(reference, lw=3, alpha=0.4)
    ax.set_prop_cycle(None)
    ax.plot(other, "--", lw=1)
    ax.set_xlabel("step (pixel)")
    ax.set_ylabel("logit")
    ax.set_title(
        f"{label}: {names[0]} (thick) vs {names[1]} (dashed); "
        f"max diff {np.max(np.abs(reference - other)):.1e}"
    )
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
