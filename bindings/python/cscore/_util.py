"""Shared conversions of the pure-Python layer: times, days and config rendering."""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import numpy as np
import pandas as pd

_EPOCH = pd.Timestamp(0, tz="UTC")


def time_micros(value: Any) -> int:
    """Microseconds since the Unix epoch (UTC) of a date, datetime, Timestamp, ISO string or
    integer seconds; naive times are taken as UTC."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value) * 1_000_000
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int((ts - _EPOCH) // pd.Timedelta(microseconds=1))


def timestamp_of(micros: int) -> pd.Timestamp:
    """The UTC Timestamp of microseconds since the epoch."""
    return _EPOCH + pd.Timedelta(microseconds=int(micros))


def day_string(day: Any) -> str:
    """A date, datetime, Timestamp or "YYYY-MM-DD" string as "YYYY-MM-DD"."""
    if isinstance(day, str):
        return day
    if isinstance(day, (_dt.date, _dt.datetime, pd.Timestamp, np.datetime64)):
        return pd.Timestamp(day).strftime("%Y-%m-%d")
    raise TypeError(f"expected a date, got {type(day).__name__}")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (pd.Timestamp, _dt.date, _dt.datetime)):
        return obj.isoformat()
    raise TypeError(f"cannot put a {type(obj).__name__} into a config")


def yaml_text(definition: Any) -> str:
    """A config given as Python data rendered as the YAML the C++ loaders read; errors then
    point into this rendering (``<dict>:line:column``)."""
    import yaml
    # A JSON round trip turns tuples, numpy scalars and dates into plain YAML types.
    return yaml.safe_dump(json.loads(json.dumps(definition, default=_json_default)),
                          sort_keys=False)
