"""Scoring a book of business partition by partition, on Dask (or Spark).

Scoring and rule evaluation are per-account and stateless: the result for an account
depends only on its row. A compiled scorecard or rule set can therefore be applied to each
partition of a ``dask.dataframe`` independently and the results concatenated, which gives
the same rows as scoring everything in one process. cscore objects pickle by their
definition, so each worker rebuilds the compiled object once per task it receives.

    >>> import dask.dataframe as dd, cscore.dask
    >>> ddf = dd.read_parquet("accounts/*.parquet")          # index = account id
    >>> scores = cscore.dask.map_partitions(ddf, scorecard)   # lazy dask DataFrame
    >>> scores.compute()

Spark uses the same function through ``mapInPandas``:

    >>> fn = cscore.dask.partition_function(scorecard, id_column="account_id")
    >>> sdf.mapInPandas(lambda it: map(fn, it), schema=...)
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import pandas as pd

__all__ = ["partition_function", "map_partitions"]


class _PartitionScorer:
    """A picklable ``pdf -> pdf`` applying ``model.<method>`` to one partition."""

    def __init__(self, model: Any, method: str, id_column: Optional[str], kwargs: dict):
        self.model = model
        self.method = method
        self.id_column = id_column
        self.kwargs = kwargs

    def __call__(self, pdf: pd.DataFrame) -> pd.DataFrame:
        fn = getattr(self.model, self.method)
        if self.id_column is not None:
            out = fn(pdf, id_column=self.id_column, **self.kwargs)
        else:
            out = fn(pdf, **self.kwargs)
        if isinstance(out, pd.Series):
            out = out.to_frame()
        if self.id_column is not None:
            # Spark ignores the index: keep the account id as a column.
            out = out.reset_index(names=self.id_column)
        return out


def partition_function(model: Any, *, method: str = "score", id_column: Optional[str] = None,
                       **kwargs: Any) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """A picklable function that scores one pandas partition with ``model.<method>``.

    With ``id_column`` the ids come from that column and are returned as a column (the
    shape Spark's ``mapInPandas`` wants); otherwise the partition's index is the account id
    and the result is indexed by it.
    """
    if not hasattr(model, method):
        raise AttributeError(f"{type(model).__name__} has no method '{method}'")
    return _PartitionScorer(model, method, id_column, kwargs)


def map_partitions(ddf: Any, model: Any, *, method: str = "score", id_column: Optional[str] = None,
                   meta: Optional[pd.DataFrame] = None, **kwargs: Any) -> Any:
    """Lazily applies ``model.<method>`` to every partition of a ``dask.dataframe``.

    Returns a dask DataFrame with the same partitions; ``meta`` (an empty DataFrame with the
    result's columns and dtypes) is inferred by scoring the first rows when not given.
    """
    fn = partition_function(model, method=method, id_column=id_column, **kwargs)
    if meta is None:
        meta = fn(ddf.head(2, npartitions=-1)).iloc[:0]
    return ddf.map_partitions(fn, meta=meta)
