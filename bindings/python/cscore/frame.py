"""Account frames: the columnar table of accounts every cscore function reads.

A :class:`Frame` wraps the native ``AccountFrame``. Built from a pandas DataFrame, a dict
of numpy arrays or a 2-D numpy array, it views float64, int64 and bool columns without
copying them (the frame keeps the arrays alive); other dtypes are converted once.
Categoricals travel as codes plus categories, strings are dictionary-encoded. Results of
scoring functions are indexed by the frame's account ids (``Frame.index``).

    >>> frame = cscore.Frame(df, id_column="account_id")
    >>> frame = cscore.Frame.read_csv("accounts.csv", id_column="account_id")
    >>> frame.to_pandas().head()
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from . import _cscore

__all__ = ["Frame", "as_frame"]


def _mask_or_none(mask: np.ndarray) -> Optional[np.ndarray]:
    return None if mask.all() else np.ascontiguousarray(mask, dtype=np.bool_)


def _series_spec(name: str, s: pd.Series) -> tuple:
    """(name, kind, values, valid, categories) for the native builder."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        codes = np.asarray(s.cat.codes, dtype=np.int32)
        return (name, "categorical", codes, None, [str(c) for c in dt.categories])
    if pd.api.types.is_bool_dtype(dt):
        if isinstance(dt, np.dtype):
            return (name, "bool", s.to_numpy(), None, None)
        valid = ~s.isna().to_numpy()
        return (name, "bool", s.to_numpy(dtype=np.bool_, na_value=False), _mask_or_none(valid), None)
    if pd.api.types.is_integer_dtype(dt):
        if isinstance(dt, np.dtype):
            return (name, "int64", s.to_numpy(dtype=np.int64), None, None)
        valid = ~s.isna().to_numpy()
        return (name, "int64", s.to_numpy(dtype=np.int64, na_value=0), _mask_or_none(valid), None)
    if pd.api.types.is_float_dtype(dt):
        if isinstance(dt, np.dtype):
            return (name, "float64", s.to_numpy(dtype=np.float64), None, None)
        return (name, "float64", s.to_numpy(dtype=np.float64, na_value=np.nan), None, None)
    if pd.api.types.is_datetime64_any_dtype(dt):
        if getattr(dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        valid = ~s.isna().to_numpy()
        ns = s.to_numpy(dtype="datetime64[ns]").view(np.int64)
        seconds = np.where(valid, ns // 1_000_000_000, 0).astype(np.int64)
        return (name, "timestamp", seconds, _mask_or_none(valid), None)
    # Strings and other objects: dictionary-encode; missing values get code -1.
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return (name, "categorical", codes.astype(np.int32), None, [str(u) for u in uniques])


def _array_spec(name: str, a: np.ndarray) -> tuple:
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"column '{name}': expected a 1-D array, got shape {a.shape}")
    if a.dtype == np.float64:
        return (name, "float64", a, None, None)
    if a.dtype == np.int64:
        return (name, "int64", a, None, None)
    if a.dtype == np.bool_:
        return (name, "bool", a, None, None)
    return _series_spec(name, pd.Series(a))


def _ids_of(index: pd.Index) -> list:
    return [str(v) for v in index]


class Frame:
    """N accounts x M typed columns with unique account ids, shared with the C++ core.

    Parameters
    ----------
    data:
        A pandas DataFrame, a mapping of column name to 1-D array / Series, or a 2-D numpy
        array (then ``columns`` names its columns).
    id_column:
        Column holding the account ids; by default the DataFrame's index (or ``ids``).
    ids:
        Account ids for a mapping or an array (default: 0..n-1).
    columns:
        Column names of a 2-D array.

    Float64, int64 and bool numpy columns are viewed without copying: do not modify them
    while the frame is in use.
    """

    __slots__ = ("_native", "_index")

    def __init__(self, data: Any, *, id_column: Optional[str] = None,
                 ids: Optional[Iterable] = None, columns: Optional[Sequence[str]] = None):
        if isinstance(data, Frame):
            self._native, self._index = data._native, data._index
            return
        specs = []
        if isinstance(data, pd.DataFrame):
            if id_column is not None:
                if id_column not in data.columns:
                    raise KeyError(f"id column '{id_column}' not in the DataFrame")
                index = pd.Index(data[id_column], name=id_column)
            elif ids is not None:
                index = pd.Index(ids)
            else:
                index = data.index
            for name in data.columns:
                if name == id_column:
                    continue
                specs.append(_series_spec(str(name), data[name]))
        elif isinstance(data, np.ndarray):
            if data.ndim != 2:
                raise ValueError(f"expected a 2-D array, got shape {data.shape}")
            names = list(columns) if columns is not None else [f"x{j}" for j in range(data.shape[1])]
            if len(names) != data.shape[1]:
                raise ValueError(f"{len(names)} column names for {data.shape[1]} columns")
            # A Fortran-order float64 array has contiguous columns: each is viewed in place.
            if data.dtype != np.float64 or not data.flags.f_contiguous:
                data = np.asfortranarray(data, dtype=np.float64)
            index = pd.Index(ids) if ids is not None else pd.RangeIndex(data.shape[0])
            specs = [(str(n), "float64", data[:, j], None, None) for j, n in enumerate(names)]
        elif isinstance(data, Mapping):
            n = None
            for name, values in data.items():
                if isinstance(values, pd.Series):
                    specs.append(_series_spec(str(name), values))
                    size = len(values)
                else:
                    specs.append(_array_spec(str(name), values))
                    size = len(specs[-1][2])
                n = size if n is None else n
            if ids is not None:
                index = pd.Index(ids)
            elif id_column is not None:
                raise ValueError("id_column applies to DataFrames; pass ids= with a mapping")
            else:
                index = pd.RangeIndex(n or 0)
        else:
            raise TypeError(f"cannot build a Frame from {type(data).__name__}")
        self._native = _cscore.AccountFrame(_ids_of(index), specs)
        self._index = index

    @classmethod
    def _wrap(cls, native: Any, index: Optional[pd.Index] = None) -> "Frame":
        f = cls.__new__(cls)
        f._native = native
        f._index = index if index is not None else pd.Index(native.ids, name="account_id")
        return f

    @classmethod
    def read_csv(cls, path: str, *, id_column: Optional[str] = None,
                 types: Optional[Mapping[str, str]] = None,
                 na_values: Optional[Sequence[str]] = None, delimiter: str = ",") -> "Frame":
        """Reads a CSV file with the C++ reader (errors carry ``file:line:column``).

        ``types`` declares column types by name ("float64", "int64", "bool", "categorical",
        "timestamp"); the others are inferred. Without ``id_column`` the 1-based data row
        number is the account id.
        """
        native = _cscore.read_csv(str(path), id_column=id_column or "", types=dict(types or {}),
                                  na_values=None if na_values is None else list(na_values),
                                  delimiter=delimiter)
        return cls._wrap(native, pd.Index(native.ids, name=id_column or "account_id"))

    @classmethod
    def from_csv_text(cls, text: str, *, source_name: str = "<string>",
                      id_column: Optional[str] = None, types: Optional[Mapping[str, str]] = None,
                      na_values: Optional[Sequence[str]] = None, delimiter: str = ",") -> "Frame":
        """Parses CSV text; ``source_name`` stands for the file name in error messages."""
        native = _cscore.parse_csv(text, source_name=source_name, id_column=id_column or "",
                                   types=dict(types or {}),
                                   na_values=None if na_values is None else list(na_values),
                                   delimiter=delimiter)
        return cls._wrap(native, pd.Index(native.ids, name=id_column or "account_id"))

    @property
    def index(self) -> pd.Index:
        """Account ids as a pandas Index (the index of every result)."""
        return self._index

    @property
    def columns(self) -> list:
        """Column names, in order."""
        return [name for name, _ in self._native.schema]

    @property
    def dtypes(self) -> dict:
        """Column name -> cscore type name."""
        return dict(self._native.schema)

    @property
    def shape(self) -> tuple:
        """(accounts, columns)."""
        return (len(self._native), len(self._native.schema))

    def __len__(self) -> int:
        return len(self._native)

    def __contains__(self, column: str) -> bool:
        return column in self.dtypes

    def column(self, name: str) -> pd.Series:
        """One column as a pandas Series indexed by account id (numeric data not copied)."""
        kind, values, valid, categories = self._native.column_data(name)
        if kind == "categorical":
            out = pd.Categorical.from_codes(values, categories=categories)
        elif kind == "timestamp":
            out = (values * 1_000_000_000).view("datetime64[ns]")
            if valid is not None:
                out[~valid.astype(bool)] = np.datetime64("NaT")
        elif kind == "bool":
            out = values.view(np.bool_)
            if valid is not None:
                out = pd.array(out, dtype="boolean")
                out[~valid.astype(bool)] = pd.NA
        elif kind == "int64" and valid is not None:
            out = pd.array(values, dtype="Int64")
            out[~valid.astype(bool)] = pd.NA
        else:
            out = values
        return pd.Series(out, index=self._index, name=name, copy=False)

    def to_pandas(self) -> pd.DataFrame:
        """The frame as a DataFrame indexed by account id."""
        return pd.DataFrame({name: self.column(name) for name in self.columns}, index=self._index)

    def take(self, rows: Sequence[int]) -> "Frame":
        """A frame of the given row positions, in that order (values copied)."""
        rows = [int(r) for r in rows]
        return Frame._wrap(self._native.take(rows), self._index[rows])

    def row_of(self, account_id: Any) -> Optional[int]:
        """Row position of an account id, or None."""
        return self._native.row_of(str(account_id))

    def __repr__(self) -> str:
        cols = ", ".join(f"{n}: {t}" for n, t in self._native.schema[:8])
        more = "" if self.shape[1] <= 8 else f", ... (+{self.shape[1] - 8})"
        return f"<cscore.Frame {self.shape[0]} accounts x {self.shape[1]} columns [{cols}{more}]>"


def as_frame(data: Any, *, id_column: Optional[str] = None) -> Frame:
    """``data`` as a :class:`Frame` (a Frame is returned as is)."""
    if isinstance(data, Frame):
        return data
    return Frame(data, id_column=id_column)
