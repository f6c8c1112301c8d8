"""Plots of nengo_lmu results (matplotlib is imported only when called)."""


def plot_delay(results, path=None, theta=None, window=1.0):
    """Plot the input, its delayed copy and each result's decoded delay.

    Parameters
    ----------
    results : list of `nengo_lmu.tasks.DelayResult`
        Runs of the same delay task (same input).
    path : str, optional
        Save the figure here (PNG); otherwise it is returned open.
    theta : float, optional
        The delay, for the title.
    window : float
        Seconds shown, starting one second in (after the memory filled).
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = results[0]
    t = first.t
    sel = (t >= 1.0) & (t < 1.0 + window)
    if not sel.any():
        sel = slice(None)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(t[sel], first.u[sel], color="0.75", label="input u(t)")
    ax.plot(t[sel], first.delayed[sel], "k--", lw=2, label="u(t - theta)")
    for r in results:
        ax.plot(t[sel], r.output[sel], label=f"{r.label} ({r.n_neurons} neurons), "
                f"NRMSE {r.nrmse:.3f}")
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
        plt.close(fig)
    return fig
