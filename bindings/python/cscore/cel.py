"""CEL (Common Expression Language): the condition language of rules, risk signals and
lifecycle guards, compiled and evaluated by the C++ core.

Compile once, against declared variables (``variables={"nps": "int"}``) or against the
columns of account data (``data=frame``: float64 columns are doubles, int64 ints, bools
bools, categoricals strings, timestamps timestamps; a :class:`cscore.History` adds the
metric functions ``avg``, ``sum``, ``trend`` and ``pct_change``). Compile errors raise
:class:`cscore.InvalidArgumentError` with CEL's ``line:column: message`` and a caret line.

    >>> prog = cscore.cel.compile("logins_30d < 10.0 && segment == 'SMB'", data=frame)
    >>> prog.evaluate(logins_30d=3.0, segment="SMB")
    True
    >>> prog.evaluate_frame(frame)        # Series indexed by account id; NA where it erred

Values convert both ways: None, bool, int (beyond int64: :class:`Uint`), float, str, bytes,
list, dict, ``pandas.Timestamp`` / ``datetime`` (timestamps, UTC) and ``datetime.timedelta``
(durations). An expression that evaluates to a CEL error raises with its message.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from . import _cscore
from ._util import time_micros, timestamp_of
from .frame import as_frame
from .history import History

__all__ = ["Program", "Uint", "Type", "compile", "evaluate", "time_micros"]


class Uint:
    """A CEL ``uint`` value (Python has one integer type; this marks the unsigned one)."""

    __slots__ = ("value",)

    def __init__(self, value: int):
        if value < 0 or value >= 1 << 64:
            raise ValueError(f"uint out of range: {value}")
        self.value = int(value)

    def __int__(self) -> int:
        return self.value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Uint):
            return self.value == other.value
        return isinstance(other, int) and not isinstance(other, bool) and self.value == other

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Uint({self.value})"


class Type(str):
    """A CEL type value, e.g. the result of ``type(1)`` (compares equal to its name)."""

    def __repr__(self) -> str:
        return f"cel.Type({str.__repr__(self)})"


def _timestamp_micros(obj: Any) -> Optional[int]:
    if isinstance(obj, (pd.Timestamp, _dt.datetime, np.datetime64)):
        return time_micros(obj)
    if isinstance(obj, _dt.date):
        return time_micros(pd.Timestamp(obj))
    return None


def _duration_micros(obj: Any) -> Optional[int]:
    if isinstance(obj, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        return int(pd.Timedelta(obj) // pd.Timedelta(microseconds=1))
    return None


def _timestamp_of(micros: int) -> pd.Timestamp:
    return timestamp_of(micros)


def _duration_of(micros: int) -> _dt.timedelta:
    return _dt.timedelta(microseconds=int(micros))


class Program:
    """A compiled CEL expression: immutable, thread-safe, picklable by its source."""

    __slots__ = ("_native", "_compile_args")

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use cscore.cel.compile(...)")

    @classmethod
    def _make(cls, native: Any, compile_args: Optional[dict]) -> "Program":
        p = object.__new__(cls)
        p._native = native
        p._compile_args = compile_args
        return p

    @property
    def source(self) -> str:
        """The expression text."""
        return self._native.source

    @property
    def result_kind(self) -> str:
        """The checker's static result type ("bool", "double", ...; "dyn" when unknown)."""
        return self._native.result_kind

    @property
    def vectorized(self) -> bool:
        """True when :meth:`evaluate_frame` runs column-at-a-time."""
        return self._native.vectorized

    @property
    def variables(self) -> list:
        """The declared variable names (sorted)."""
        return sorted(self._native.variables)

    def evaluate(self, activation: Optional[Mapping[str, Any]] = None, *, now: Any = None,
                 history: Optional[History] = None, account: Any = None, **variables: Any) -> Any:
        """Evaluates on one set of values (``activation`` and/or keyword arguments).

        ``now`` is the time ``now``, ``days_since`` and ``days_until`` read (default: the
        epoch; nothing reads the clock). With ``history`` and ``account`` (an account id of
        it) the metric functions read that account's row.
        """
        act = dict(activation or {})
        act.update(variables)
        row = 0
        if history is not None:
            if account is None:
                raise ValueError("history needs account= (an account id of the history)")
            row = int(history.index.get_loc(account))
        return self._native.evaluate(act, now_us=0 if now is None else time_micros(now),
                                     history=None if history is None else history._native,
                                     account=row)

    def evaluate_frame(self, data: Any, *, history: Optional[History] = None, now: Any = None,
                       threads: int = 1, errors: str = "null", rowwise: bool = False,
                       id_column: Optional[str] = None) -> pd.Series:
        """Evaluates every account of ``data`` (DataFrame or Frame) in the C++ core with the
        GIL released; returns a Series indexed by account id.

        Rows whose value is a CEL error (a missing value, a type error) or null are NA
        (bool results become pandas' nullable ``boolean``); ``errors="raise"`` raises
        :class:`cscore.InvalidArgumentError` with the first erring account instead.
        ``series.attrs`` holds ``num_errors`` and ``first_error``.
        """
        if errors not in ("null", "raise"):
            raise ValueError("errors must be 'null' or 'raise'")
        frame = as_frame(data, id_column=id_column)
        r = self._native.evaluate_frame(frame._native,
                                        None if history is None else history._native,
                                        now_us=0 if now is None else time_micros(now),
                                        threads=int(threads), rowwise=bool(rowwise))
        if errors == "raise" and r["num_errors"]:
            raise _cscore.InvalidArgumentError(r["first_error"])
        return _result_series(r, frame.index, self.source)

    def __reduce__(self):
        if self._compile_args is None:
            raise TypeError("this Program was compiled against a frame; compile it with "
                            "variables= to pickle it")
        return (_recompile, (self.source, self._compile_args))

    def __repr__(self) -> str:
        return f"<cscore.cel.Program {self.source!r} -> {self.result_kind}>"


def _result_series(r: dict, index: pd.Index, name: str) -> pd.Series:
    status = np.asarray(r["status"])
    bad = status != 0
    kind = r["kind"]
    values = r["values"]
    if kind == "bool":
        out = pd.array(np.asarray(values).astype(bool), dtype="boolean")
        out[bad] = pd.NA
    elif kind == "int":
        out = pd.array(np.asarray(values), dtype="Int64")
        out[bad] = pd.NA
    elif kind == "double":
        out = np.array(values, dtype=np.float64)
        out[bad] = np.nan
    elif kind == "timestamp":
        out = (np.asarray(values, dtype=np.int64) * 1_000_000_000).view("datetime64[ns]")
        out = out.copy()
        out[bad] = np.datetime64("NaT")
    else:
        out = np.array(values, dtype=object)
    s = pd.Series(out, index=index, name=name)
    s.attrs["num_errors"] = int(r["num_errors"])
    s.attrs["first_error"] = r["first_error"]
    return s


def _recompile(source: str, args: dict) -> Program:
    return compile(source, **args)


def compile(source: str, *, variables: Optional[Mapping[str, str]] = None, data: Any = None,
            history: Optional[History] = None, metrics: Sequence[str] = (), check: bool = True,
            max_depth: int = 250, max_nodes: int = 100_000) -> Program:
    """Compiles a CEL expression.

    ``variables`` declares names and CEL types ("bool", "int", "uint", "double", "string",
    "bytes", "list", "map", "timestamp", "duration", "dyn"); ``data`` (a DataFrame or Frame)
    declares its columns; ``history`` / ``metrics`` declare metric names for the metric
    functions. ``check=False`` resolves identifiers at evaluation time instead.
    """
    frame = None if data is None else as_frame(data)
    native = _cscore.cel_compile(source, variables=None if variables is None else dict(variables),
                                 frame=None if frame is None else frame._native,
                                 history=None if history is None else history._native,
                                 metrics=list(metrics), check=bool(check),
                                 max_depth=int(max_depth), max_nodes=int(max_nodes))
    args = None
    if frame is None and history is None:
        args = {"variables": None if variables is None else dict(variables),
                "metrics": list(metrics), "check": check, "max_depth": max_depth,
                "max_nodes": max_nodes}
    return Program._make(native, args)


def evaluate(source: str, activation: Optional[Mapping[str, Any]] = None, *, now: Any = None,
             **variables: Any) -> Any:
    """Compiles unchecked and evaluates once: ``cscore.cel.evaluate("a + 1", a=2) == 3``."""
    return compile(source, check=False).evaluate(activation, now=now, **variables)

