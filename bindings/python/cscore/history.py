"""Metric history: daily snapshots of float64 metrics for the accounts of a frame.

Each metric is an accounts x days matrix whose last day is ``as_of``; windowed aggregates
(sum, mean, last, min, max, trend, pct_change) are computed by the C++ core over whole
columns. A Fortran-order float64 matrix is viewed without a copy.

    >>> h = cscore.History(frame.index, days=90)
    >>> h.add("logins", logins_matrix)            # accounts x 90
    >>> h.window("logins", "trend", days=30)      # Series: slope per day, per account
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np
import pandas as pd

from . import _cscore
from .frame import Frame

__all__ = ["History"]


class History:
    """Accounts x days matrices of metrics, aligned with ``index`` (account ids).

    Parameters
    ----------
    index:
        Account ids (a pandas Index, a list, or a :class:`Frame` whose index is used).
    days:
        Number of daily snapshots; the last one is ``as_of``.
    as_of:
        Optional date of the last day, used to label days in :meth:`account`.
    """

    __slots__ = ("_native", "_index", "_as_of")

    def __init__(self, index: Any, days: int, *, as_of: Optional[Any] = None):
        if isinstance(index, Frame):
            index = index.index
        self._index = pd.Index(index)
        self._native = _cscore.MetricHistory(len(self._index), int(days))
        self._as_of = None if as_of is None else pd.Timestamp(as_of)

    @classmethod
    def from_long(cls, df: pd.DataFrame, *, account: str, date: str,
                  metrics: Iterable[str], as_of: Any, days: int,
                  index: Optional[Any] = None) -> "History":
        """Builds a history from long data (one row per account and day).

        Days are the ``days`` calendar days ending at ``as_of``; missing days are NaN.
        ``index`` fixes the account order (e.g. a frame's index); by default the sorted ids.
        """
        as_of = pd.Timestamp(as_of).normalize()
        dates = pd.date_range(end=as_of, periods=int(days), freq="D")
        if isinstance(index, Frame):
            index = index.index
        index = pd.Index(sorted(df[account].unique())) if index is None else pd.Index(index)
        h = cls(index, days, as_of=as_of)
        day = pd.to_datetime(df[date]).dt.normalize()
        for metric in metrics:
            wide = (df.assign(_day=day).pivot_table(index=account, columns="_day", values=metric,
                                                    aggfunc="last")
                    .reindex(index=index, columns=dates))
            h.add(metric, np.asfortranarray(wide.to_numpy(dtype=np.float64)))
        return h

    @property
    def index(self) -> pd.Index:
        """Account ids, in row order."""
        return self._index

    @property
    def days(self) -> int:
        """Number of daily snapshots."""
        return self._native.num_days

    @property
    def metrics(self) -> list:
        """Metric names, in the order they were added."""
        return list(self._native.metric_names)

    def add(self, name: str, values: Any) -> "History":
        """Adds a metric as an accounts x days matrix (or DataFrame); returns self."""
        if isinstance(values, pd.DataFrame):
            values = values.reindex(self._index).to_numpy(dtype=np.float64)
        self._native.add_metric(name, values)
        return self

    def matrix(self, metric: str) -> pd.DataFrame:
        """A metric's accounts x days matrix (read-only view)."""
        m = self._native.matrix(metric)
        return pd.DataFrame(m, index=self._index, columns=self._day_labels(), copy=False)

    def window(self, metric: str, op: str = "mean", days: int = 30) -> pd.Series:
        """One aggregate per account over the last ``days`` days, as a Series.

        ``op`` is sum, mean, last, min, max, trend (least-squares slope per day) or
        pct_change.
        """
        values = self._native.window(metric, op, int(days))
        return pd.Series(values, index=self._index, name=f"{metric}_{op}_{days}d", copy=False)

    def account(self, account_id: Any) -> pd.DataFrame:
        """Every metric of one account, one row per day."""
        pos = self._index.get_loc(account_id)
        data = {m: self._native.matrix(m)[pos] for m in self.metrics}
        return pd.DataFrame(data, index=self._day_labels())

    def _day_labels(self) -> pd.Index:
        n = self.days
        if self._as_of is not None:
            return pd.date_range(end=self._as_of, periods=n, freq="D")
        return pd.RangeIndex(-(n - 1), 1, name="day")

    def __repr__(self) -> str:
        return (f"<cscore.History {len(self._index)} accounts x {self.days} days, "
                f"metrics {self.metrics}>")
