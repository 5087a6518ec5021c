"""Figures of the paper cases (fpsolve.cases.papers_tasks)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt

__all__ = ["collapse", "depth_limit", "separability"]


def separability(gaps, times, table, title):
    """P(separable at T) against alpha - beta, one curve per T."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for T, row in zip(times, table):
        ax.plot(gaps, row, marker=".", label=f"T = {T:g}")
    ax.axvline(0.0, color="0.6", lw=0.8, ls="--")
    ax.set_xlabel(r"intra $-$ inter impact, $\alpha - \beta$")
    ax.set_ylabel("P(separating margin > 0 at T)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def collapse(times, ratios, shares, fractions, rates, n_classes):
    """Neural-collapse ratio and the simplex mode's share over time; separating rate against the
    label-corruption fraction."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.5))
    a.semilogy(times, ratios, marker=".", label="within / between class variance")
    a.semilogy(times, shares, marker=".", label="simplex mode's share of between")
    a.set_xlabel("t")
    a.legend(fontsize=8)
    b.plot(fractions, rates, marker=".")
    b.axhline(0.0, color="0.6", lw=0.8)
    b.axvline((n_classes - 1) / n_classes, color="C3", ls="--", lw=0.8, label=r"$p = (K-1)/K$")
    b.set_xlabel("label corruption p")
    b.set_ylabel(r"separating rate $(\alpha' - \beta')/K$")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def depth_limit(table, second, x, p, title):
    """E h_L^2 against depth with the SDE limit; the limit's density."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    depths = [r["depth"] for r in table]
    a.errorbar(
        depths,
        [r["second_moment"] for r in table],
        yerr=[r["ci99"] for r in table],
        fmt="o",
        ms=4,
        label=r"finite depth (99 % CI)",
    )
    a.axhline(second, color="C3", label=r"SDE limit (Fokker-Planck)")
    a.set_ylim(top=1.04 * second)
    a.set_xscale("log")
    a.set_xlabel("depth L")
    a.set_ylabel(r"$E\,h_L^2$")
    a.legend(fontsize=8)
    keep = (x > -4) & (x < 8)
    b.plot(x[keep], p[keep])
    b.set_xlabel("H(1)")
    b.set_ylabel("density")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
