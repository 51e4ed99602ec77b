"""The daily run from Python: the same Engine and SQLite store as ``cscore run``.

``Engine.run`` takes the day's account snapshot through every step (ingest, scoring,
rules, CTAs, escalations), committing each step to the store; a day already complete
returns its stored report. Nothing reads the clock: ``as_of`` is the only time.

    >>> engine = cscore.Engine("cs.db", config="config/")
    >>> report = engine.run(snapshot_df, as_of="2024-03-01")
    >>> report.health            # {'green': ..., 'yellow': ..., 'red': ..., 'unscored': ...}
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any, Callable, Iterable, Optional

import pandas as pd

from . import _cscore
from .frame import Frame, as_frame
from .history import History

__all__ = ["Engine", "SqliteStore", "RunReport", "read_snapshot", "validate_config",
           "check_config_file", "day_string"]

SqliteStore = _cscore.SqliteStore
RunReport = _cscore.RunReport


def day_string(day: Any) -> str:
    """A date, datetime, Timestamp or "YYYY-MM-DD" string as "YYYY-MM-DD"."""
    if isinstance(day, str):
        return day
    if isinstance(day, (_dt.date, _dt.datetime, pd.Timestamp)):
        return pd.Timestamp(day).strftime("%Y-%m-%d")
    raise TypeError(f"expected a date, got {type(day).__name__}")


def _report_dict(self) -> dict:
    """The report as a plain dict (the JSON of ``cscore run --json``)."""
    return json.loads(self.to_json())


def _report_repr(self) -> str:
    h = self.health
    return (f"<cscore.RunReport {self.date}: {self.accounts} accounts, health "
            f"{h['green']}/{h['yellow']}/{h['red']} g/y/r, steps {', '.join(self.steps)}>")


RunReport.to_dict = _report_dict
RunReport.__repr__ = _report_repr


class Engine:
    """The daily run over a store.

    Parameters
    ----------
    store:
        A path to a SQLite store file (created if absent) or an open :class:`SqliteStore`.
    config:
        A configuration directory (scorecards.yaml, risk.yaml, rules.yaml, lifecycles/,
        organisation.yaml, escalation.yaml, engine.yaml; each optional): the definitions of
        every step, loaded as ``cscore run --config`` loads them (errors read
        file:line:column). Without it the run keeps history only.
    history_days:
        Days of metric history loaded for windowed measures and trends (default: the
        configuration's, else 90).
    progress:
        Optional ``callback(step: str, fraction: float)`` called during runs.
    """

    def __init__(self, store: Any, *, config: Optional[str] = None,
                 history_days: Optional[int] = None,
                 progress: Optional[Callable[[str, float], None]] = None):
        self.store = store if isinstance(store, SqliteStore) else SqliteStore.open(str(store))
        self._native = _cscore.Engine(self.store, history_days=history_days, progress=progress,
                                      config=None if config is None else str(config))

    @property
    def steps(self) -> dict:
        """Which configured steps run (health, risk, rules, escalation, sponsors) and the
        history window."""
        return dict(self._native.steps)

    def run(self, snapshot: Any, as_of: Any, *, id_column: Optional[str] = None) -> RunReport:
        """Runs day ``as_of`` over ``snapshot`` (a Frame or DataFrame of accounts).

        Bad input (non-finite metrics, an empty snapshot) raises and writes nothing; a day
        already complete returns the stored report (``report.from_store``).
        """
        frame = as_frame(snapshot, id_column=id_column)
        return self._native.run(frame._native, day_string(as_of))

    def load_history(self, snapshot: Any, metrics: Iterable[str], as_of: Any,
                     days: int) -> History:
        """The last ``days`` days of ``metrics`` stored by earlier runs, aligned to
        ``snapshot``'s accounts (NaN where no value was stored)."""
        frame = as_frame(snapshot)
        h = History.__new__(History)
        h._native = self._native.load_history(frame._native, list(metrics), day_string(as_of),
                                              int(days))
        h._index = frame.index
        h._as_of = pd.Timestamp(day_string(as_of))
        return h

    def audit(self, *, after_seq: int = 0) -> pd.DataFrame:
        """The store's audit log (every CTA change the runs made), entries after
        ``after_seq``: seq, time, cta_id, account_id, event, from / to status, actor, reason,
        detail."""
        df = pd.DataFrame(self.store.load_audit(after_seq=int(after_seq)))
        if len(df):
            df["time"] = pd.to_datetime(df["time"], unit="s")
        return df

    def report(self, day: Any) -> Optional[dict]:
        """The stored report of a completed day as a dict, or None."""
        text = self.store.load_report(day_string(day))
        return None if text is None else json.loads(text)


def read_snapshot(data_dir: str, date: Any) -> Frame:
    """The day's snapshot from a data directory (``accounts-YYYY-MM-DD.csv`` or
    ``accounts.csv``, id column ``account_id``)."""
    native = _cscore.read_snapshot(str(data_dir), day_string(date))
    return Frame._wrap(native, pd.Index(native.ids, name="account_id"))


def validate_config(config_dir: str) -> list:
    """Every problem of a configuration directory, as "file:line:column: message" strings
    (the lines ``cscore validate`` prints); empty when the directory is valid."""
    _, errors = _cscore.check_config_dir(str(config_dir))
    return list(errors)


def check_config_file(path: str) -> None:
    """Raises :class:`cscore.InvalidArgumentError` (file:line:column) for a bad YAML file."""
    _cscore.check_config_file(str(path))
