"""Matplotlib plots for notebooks: health by segment, the risk heatmap, an account's score
history with its trend, ROC and calibration curves of a backtest, and CTA aging.

Each function draws on ``ax`` (a new figure when omitted) and returns the Axes, so plots
compose into subplots. Inputs are pandas objects as returned by cscore's functions.

    >>> import cscore.plots as cp
    >>> cp.health_distribution(scores["score"], accounts["segment"])
    >>> cp.roc_curve(y_true, churn_probability)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["health_distribution", "risk_heatmap", "score_history", "roc_curve",
           "calibration_curve", "cta_aging", "roc_points", "calibration_points"]

_STATUS_COLORS = {"green": "#57bb8a", "yellow": "#f7cb4d", "red": "#e67c73", "na": "#d0d0d0"}


def _axes(ax: Any, figsize: tuple = (6, 4)) -> "Axes":
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize)
    return ax


def health_distribution(scores: pd.Series, segments: Optional[Any] = None, *, ax: Optional["Axes"] = None,
                        bands: Optional[Sequence[tuple]] = None, bins: int = 20) -> "Axes":
    """Histogram of health scores, one step line per segment.

    ``segments`` is aligned with ``scores`` (a Series sharing its index, or an array);
    ``bands`` shades the scheme, e.g. ``[(0, 50, "red"), (50, 75, "yellow"), (75, 100, "green")]``.
    """
    ax = _axes(ax)
    scores = pd.Series(scores)
    if segments is None:
        groups = {"all": scores}
    else:
        seg = segments.reindex(scores.index) if isinstance(segments, pd.Series) else \
            pd.Series(np.asarray(segments), index=scores.index)
        groups = {str(k): v for k, v in scores.groupby(seg.astype(str))}
    finite = scores[np.isfinite(scores)]
    lo, hi = (0.0, 100.0) if finite.empty else (min(0.0, finite.min()), max(100.0, finite.max()))
    edges = np.linspace(lo, hi, bins + 1)
    for name, values in groups.items():
        v = values[np.isfinite(values)]
        ax.hist(v, bins=edges, histtype="step", linewidth=1.5, label=f"{name} (n={len(v)})")
    for lo_b, hi_b, color in bands or []:
        ax.axvspan(lo_b, hi_b, color=_STATUS_COLORS.get(color, color), alpha=0.15, lw=0)
    ax.set_xlabel("health score")
    ax.set_ylabel("accounts")
    ax.set_title("Health distribution by segment")
    ax.legend(fontsize=8)
    return ax


def risk_heatmap(statuses: pd.DataFrame, *, ax: Optional["Axes"] = None, max_accounts: int = 40) -> "Axes":
    """Accounts x risk domains, colored green / yellow / red (N/A in gray).

    ``statuses`` holds status names ("green", "yellow", "red") or levels 0 / 1 / 2; rows are
    accounts (the index labels the y axis), columns the domains.
    """
    from matplotlib.colors import ListedColormap
    shown = statuses.head(max_accounts)
    level = {"green": 0, "yellow": 1, "red": 2}

    def to_level(v):
        if isinstance(v, str):
            return level.get(v.lower(), -1)
        return -1 if v is None or pd.isna(v) else int(v)

    grid = np.vectorize(to_level, otypes=[float])(shown.to_numpy(dtype=object)) \
        if shown.size else np.zeros(shown.shape)
    ax = _axes(ax, figsize=(1 + 0.7 * shown.shape[1], 1 + 0.25 * max(len(shown), 1)))
    cmap = ListedColormap([_STATUS_COLORS[k] for k in ("na", "green", "yellow", "red")])
    ax.imshow(grid + 1, cmap=cmap, vmin=0, vmax=3, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(shown.shape[1]), [str(c) for c in shown.columns], rotation=45, ha="right")
    ax.set_yticks(range(len(shown)), [str(i) for i in shown.index], fontsize=7)
    ax.set_title("Risk scorecard")
    return ax


def score_history(history: pd.Series, *, trend_days: Optional[int] = 30, ax: Optional["Axes"] = None,
                  bands: Optional[Sequence[tuple]] = None) -> "Axes":
    """One account's score over time, with its least-squares trend over the last days."""
    ax = _axes(ax)
    history = pd.Series(history).astype(float)
    x = np.arange(len(history))
    ax.plot(history.index, history.to_numpy(), marker=".", label="score")
    if trend_days:
        tail = history.iloc[-trend_days:]
        ok = np.isfinite(tail.to_numpy())
        if ok.sum() >= 2:
            tx = x[-len(tail):][ok]
            slope, intercept = np.polyfit(tx, tail.to_numpy()[ok], 1)
            ax.plot(tail.index[ok], slope * tx + intercept, "--",
                    label=f"trend {slope:+.2f}/day")
    for lo_b, hi_b, color in bands or []:
        ax.axhspan(lo_b, hi_b, color=_STATUS_COLORS.get(color, color), alpha=0.15, lw=0)
    ax.set_ylabel("score")
    ax.set_title(f"Score history{'' if history.name is None else f' of {history.name}'}")
    ax.legend(fontsize=8)
    return ax


def roc_points(y_true: Any, score: Any) -> tuple:
    """(false positive rate, true positive rate, AUC) of ``score`` predicting ``y_true``."""
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=float)
    keep = np.isfinite(s)
    y, s = y[keep], s[keep]
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    distinct = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    pos, neg = max(y.sum(), 1), max((~y).sum(), 1)
    tpr = np.r_[0.0, tps / pos]
    fpr = np.r_[0.0, fps / neg]
    return fpr, tpr, float(np.trapz(tpr, fpr))


def calibration_points(y_true: Any, probability: Any, bins: int = 10) -> tuple:
    """(mean predicted, observed rate, count) per probability bin."""
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(probability, dtype=float)
    keep = np.isfinite(p)
    y, p = y[keep], p[keep]
    idx = np.clip((p * bins).astype(int), 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(idx, weights=p, minlength=bins) / count
        rate = np.bincount(idx, weights=y, minlength=bins) / count
    used = count > 0
    return mean_p[used], rate[used], count[used]


def roc_curve(y_true: Any, score: Any, *, ax: Optional["Axes"] = None, label: Optional[str] = None) -> "Axes":
    """ROC curve (with its AUC in the legend) of a churn score; higher score = more risk."""
    ax = _axes(ax, figsize=(4.5, 4.5))
    fpr, tpr, auc = roc_points(y_true, score)
    ax.plot(fpr, tpr, label=f"{label or 'model'} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="gray")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def calibration_curve(y_true: Any, probability: Any, *, bins: int = 10, ax: Optional["Axes"] = None,
                      label: Optional[str] = None) -> "Axes":
    """Observed churn rate against predicted probability, per probability bin."""
    ax = _axes(ax, figsize=(4.5, 4.5))
    mean_p, rate, _ = calibration_points(y_true, probability, bins)
    ax.plot(mean_p, rate, marker="o", label=label or "model")
    ax.plot([0, 1], [0, 1], ":", color="gray", label="perfect")
    ax.set_xlabel("predicted churn probability")
    ax.set_ylabel("observed churn rate")
    ax.set_title("Calibration")
    ax.legend(fontsize=8, loc="upper left")
    return ax


def cta_aging(ctas: pd.DataFrame, as_of: Any, *, opened: str = "opened",
              by: Optional[str] = "priority", open_only: bool = True,
              status_category: str = "category", ax: Optional["Axes"] = None,
              buckets: Sequence[int] = (7, 14, 30, 60, 90)) -> "Axes":
    """Open CTAs by age bucket (days since ``opened`` at ``as_of``), stacked by ``by``."""
    ax = _axes(ax)
    df = ctas
    if open_only and status_category in df.columns:
        df = df[df[status_category].astype(str).str.lower() == "open"]
    age = (pd.Timestamp(as_of) - pd.to_datetime(df[opened])).dt.days
    edges = [-np.inf, *buckets, np.inf]
    labels = [f"<= {buckets[0]}d"] + [f"{a + 1}-{b}d" for a, b in zip(buckets, buckets[1:])] + \
        [f"> {buckets[-1]}d"]
    bucket = pd.cut(age, edges, labels=labels)
    if by and by in df.columns:
        table = pd.crosstab(bucket, df[by].astype(str)).reindex(labels, fill_value=0)
    else:
        table = bucket.value_counts().reindex(labels, fill_value=0).to_frame("ctas")
    bottom = np.zeros(len(table))
    for col in table.columns:
        ax.bar(labels, table[col].to_numpy(), bottom=bottom, label=str(col))
        bottom += table[col].to_numpy()
    ax.set_xlabel("age")
    ax.set_ylabel("open CTAs")
    ax.set_title("CTA aging")
    ax.legend(fontsize=8, title=by if by in df.columns else None)
    return ax
