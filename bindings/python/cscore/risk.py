"""The 8-domain risk scorecard: green / yellow / red per account and risk domain.

A domain's status is the worst of its signals (thresholds on columns or on history
windows) and of the account's open CTAs in that domain: an open manual risk CTA makes it at
least yellow, a flagged one red. The overall status is the worst domain. Definitions are
``risk.yaml`` files, loaded by the same code (and with the same messages) as the CLI.

    >>> risk = cscore.RiskScorecard.load("config/risk.yaml")
    >>> statuses = risk.evaluate(accounts, history=h, as_of="2024-03-01")
    >>> statuses.review(accounts, arr_column="arr", min_arr=100_000)
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np
import pandas as pd

from . import _cscore
from .display import html_table
from .frame import as_frame
from .history import History

__all__ = ["RiskScorecard", "RiskTable", "DOMAINS"]

DOMAINS = ["habit", "sentiment", "company", "support", "implementation", "readiness",
           "product", "defect"]
_STATUS = ["green", "yellow", "red"]


def _seconds(as_of: Any) -> int:
    return 0 if as_of is None else int(pd.Timestamp(as_of).timestamp())


class RiskTable(pd.DataFrame):
    """Risk statuses (one column per domain, plus overall) that render as a colored grid."""

    _metadata = ["_native", "_frame"]

    @property
    def _constructor(self):
        return pd.DataFrame

    def review(self, data: Any = None, *, arr_column: str = "arr",
               min_arr: float = 0.0) -> pd.DataFrame:
        """The weekly review list: red accounts with ARR >= ``min_arr``, largest ARR first,
        with their red domains."""
        rows = _cscore.risk_review_list(self._native, self._frame._native, arr_column,
                                        float(min_arr))
        out = pd.DataFrame({
            "arr": [r[2] for r in rows],
            "red_domains": [", ".join(d for i, d in enumerate(DOMAINS) if r[3] >> i & 1)
                            for r in rows],
        }, index=pd.Index([self._frame.index[r[0]] for r in rows], name=self.index.name))
        return out

    def _repr_html_(self) -> str:
        cols = DOMAINS + ["overall"]
        return html_table(self[cols], colors={c: self[c] for c in cols},
                          caption=f"Risk scorecard ({len(self)} accounts, "
                                  f"{int((self['overall'] == 'red').sum())} red)")


class RiskScorecard:
    """A parsed risk definition; evaluation compiles its signals against the data's
    columns (an unknown column or metric raises, naming domain and signal)."""

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use RiskScorecard.from_yaml or RiskScorecard.load")

    @classmethod
    def _make(cls, core: Any) -> "RiskScorecard":
        r = object.__new__(cls)
        r._core = core
        return r

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> "RiskScorecard":
        """Parses ``risk.yaml`` text; errors read ``source:line:column: message``."""
        return cls._make(_cscore.RiskScorecardCore.from_yaml(text, source=source))

    @classmethod
    def load(cls, path: str) -> "RiskScorecard":
        """Loads a ``risk.yaml`` file (the CLI's loader)."""
        return cls._make(_cscore.RiskScorecardCore.load(str(path)))

    @property
    def owners(self) -> dict:
        """Owning team of each domain."""
        return dict(self._core.owners)

    @property
    def signals(self) -> pd.DataFrame:
        """Every signal: domain, name, level."""
        return pd.DataFrame(self._core.signals, columns=["domain", "signal", "level"])

    def evaluate(self, data: Any, *, history: Optional[History] = None, as_of: Any = None,
                 open_ctas: Optional[pd.DataFrame] = None, store: Any = None,
                 id_column: Optional[str] = None) -> RiskTable:
        """Statuses per account (index) and domain (columns), plus ``overall`` and the
        number of red domains. Open CTAs feed their domain: ``store`` (a
        :class:`cscore.CtaStore`) gives its open CTAs (manual = opened by a person), and / or
        ``open_ctas`` has columns account_id, domain and optionally type (default "Risk"),
        manual and flagged (default False). Condition signals are CEL over the data's
        columns and ``history``'s metrics; the GIL is released while evaluating."""
        frame = as_frame(data, id_column=id_column)
        refs = []
        if open_ctas is not None and len(open_ctas):
            for rec in open_ctas.to_dict("records"):
                row = frame.row_of(rec["account_id"])
                if row is None:
                    raise _cscore.NotFoundError(
                        f"open CTA for unknown account '{rec['account_id']}'")
                refs.append((row, str(rec.get("type", "Risk")), str(rec["domain"]),
                             bool(rec.get("manual", False)), bool(rec.get("flagged", False))))
        native = self._core.evaluate(frame._native, history._native if history else None,
                                     as_of=_seconds(as_of), open_ctas=refs,
                                     store=None if store is None else store._native)
        cols = native.columns()
        cats = pd.CategoricalDtype(_STATUS, ordered=True)
        data_out = {d: pd.Categorical.from_codes(cols[d].astype(np.int8), dtype=cats)
                    for d in DOMAINS}
        data_out["overall"] = pd.Categorical.from_codes(cols["overall"].astype(np.int8), dtype=cats)
        data_out["red_domains"] = cols["red_count"].astype(np.int64)
        table = RiskTable(pd.DataFrame(data_out, index=frame.index))
        table._native = native
        table._frame = frame
        return table

    def __repr__(self) -> str:
        return f"<cscore.RiskScorecard {len(self.signals)} signals>"
