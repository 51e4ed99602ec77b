"""Health scorecards: define in YAML or Python dicts, score DataFrames, explain accounts.

A :class:`Scorecard` holds one or more compiled scorecards (chosen per account by their
``when`` criteria, with a default) exactly as ``scorecards.yaml`` defines them for the
CLI; definition errors carry the same ``file:line:column`` message. Scoring runs in the C++
core over column batches with the GIL released and returns a DataFrame indexed by account
id: score, label, color, trend and, for a single scorecard, one sub-score per measure.

    >>> card = cscore.Scorecard.from_dict({"name": "health", "measures": [
    ...     {"name": "logins", "metric": "logins_30d", "weight": 2, "ramp": {"from": 0, "to": 40}},
    ...     {"name": "tickets", "metric": "open_tickets", "inverted_ramp": {"from": 0, "to": 10}}]})
    >>> card.score(accounts).head()
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

import numpy as np
import pandas as pd

from . import _cscore
from .display import html_table
from .frame import Frame, as_frame
from .history import History

__all__ = ["Scorecard", "Explanation"]

_TREND = {1: "up", -1: "down", 0: "same"}


def _seconds(as_of: Any) -> int:
    if as_of is None:
        return 0
    if isinstance(as_of, (int, np.integer)):
        return int(as_of)
    return int(pd.Timestamp(as_of).timestamp())


class Scorecard:
    """Compiled health scorecard(s); immutable, thread-safe, picklable by definition.

    Build with :meth:`from_yaml`, :meth:`load` or :meth:`from_dict`.
    """

    __slots__ = ("_native", "_source", "_source_name", "_cards", "_dtypes")

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use Scorecard.from_yaml, Scorecard.load or Scorecard.from_dict")

    @classmethod
    def _make(cls, native: Any, source: Optional[str], source_name: str) -> "Scorecard":
        card = object.__new__(cls)
        card._native = native
        card._source = source
        card._source_name = source_name
        card._cards = [native.card_info(i) for i in range(native.size)]
        return card

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> "Scorecard":
        """Compiles YAML text in the shape of ``scorecards.yaml``; ``source`` names it in
        error messages (``source:line:column: ...``)."""
        return cls._make(_cscore.ScorecardSetCore.from_yaml(text, source=source), text, source)

    @classmethod
    def load(cls, path: str) -> "Scorecard":
        """Loads and compiles a ``scorecards.yaml`` file (the CLI's loader and messages)."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return cls._make(_cscore.ScorecardSetCore.load(str(path)), text, str(path))

    @classmethod
    def from_dict(cls, definition: Mapping[str, Any], *, source: str = "<dict>") -> "Scorecard":
        """Compiles a definition given as Python data: either ``{"scorecards": [...],
        "overrides": [...]}`` or a single scorecard's mapping (made the default). Errors
        point into the YAML rendering of the dict (``<dict>:line:column``)."""
        import yaml
        definition = dict(definition)
        if "scorecards" not in definition:
            card = dict(definition)
            card.setdefault("default", True)
            definition = {"scorecards": [card]}
        text = yaml.safe_dump(json.loads(json.dumps(definition)), sort_keys=False)
        return cls.from_yaml(text, source=source)

    def __reduce__(self):
        # Pickled as its definition: a Dask or Spark worker recompiles it once.
        return (_from_yaml_source, (self._source, self._source_name))

    @property
    def names(self) -> list:
        """Names of the scorecards, in definition order."""
        return [c["name"] for c in self._cards]

    @property
    def measures(self) -> pd.DataFrame:
        """Every measure: scorecard, metric, kind, weight and % contribution (top level)."""
        rows = []
        for c in self._cards:
            total = sum(m["weight"] for m in c["measures"]) or 1.0
            for m in c["measures"]:
                rows.append({"scorecard": c["name"], "measure": m["name"], "metric": m["metric"],
                             "kind": m["kind"], "weight": m["weight"],
                             "weight_pct": 100.0 * m["weight"] / total,
                             "window": None if m["window"] is None else
                             f"{m['window'][0]} {m['window'][1]}d"})
        return pd.DataFrame(rows)

    @property
    def scheme(self) -> pd.DataFrame:
        """Scheme ranges of each scorecard (from, to, label, color)."""
        rows = [{"scorecard": c["name"], "from": r[0], "to": r[1], "label": r[2], "color": r[3]}
                for c in self._cards for r in c["ranges"]]
        return pd.DataFrame(rows)

    def _score_native(self, data: Any, history: Optional[History], as_of: Any, threads: int,
                      detail: str, previous: Any = None, id_column: Optional[str] = None):
        frame = as_frame(data, id_column=id_column)
        prev = None
        if previous is not None:
            prev = self._score_native(previous, None, as_of, threads, "subscores")[1]
        native = self._native.score(frame._native, history._native if history else None,
                                    as_of=_seconds(as_of), threads=int(threads), detail=detail,
                                    previous=prev)
        return frame, native

    def score(self, data: Any, *, history: Optional[History] = None, as_of: Any = None,
              previous: Any = None, subscores: bool = True, threads: int = 1,
              id_column: Optional[str] = None) -> pd.DataFrame:
        """Scores every account; returns a DataFrame indexed by account id.

        Columns: ``score`` (NaN = N/A), ``label`` and ``color`` from the scheme, ``delta``
        and ``trend`` against ``previous`` (the earlier snapshot's data, matched by id),
        ``scorecard`` (which one scored the account) and, for a single scorecard with
        ``subscores=True``, one column per measure. ``history`` feeds windowed measures;
        ``as_of`` decides which overrides are active.
        """
        detail = "subscores" if subscores and len(self._cards) == 1 else "scores"
        frame, native = self._score_native(data, history, as_of, threads, detail, previous,
                                           id_column)
        cols = native.columns()
        return self._result(frame.index, cols, native if detail == "subscores" else None)

    def _result(self, index: pd.Index, cols: dict, native: Any) -> pd.DataFrame:
        card = cols["card"]
        rng = cols["range"]  # int8 range codes, -1 = N/A
        out = {"score": cols["score"]}
        if len(self._cards) == 1:
            label, color = self._range_dtypes()
            out["label"] = _from_codes(rng, *label)
            out["color"] = _from_codes(rng, *color)
        else:
            rng = rng.astype(np.int64)
            labels = np.array([None] * len(card), dtype=object)
            colors = np.array([None] * len(card), dtype=object)
            for ci, c in enumerate(self._cards):
                sel = (card == ci) & (rng >= 0)
                lab = np.array([r[2] for r in c["ranges"]], dtype=object)
                col = np.array([r[3] for r in c["ranges"]], dtype=object)
                labels[sel] = lab[rng[sel]]
                colors[sel] = col[rng[sel]]
            out["label"] = labels
            out["color"] = colors
        out["delta"] = cols["delta"]
        out["trend"] = _from_codes(cols["trend"] + np.int8(1), _TREND, None)
        out["scorecard"] = _from_codes(card, *self._card_dtype())
        df = pd.DataFrame(out, index=index, copy=False)
        if native is not None:
            names = [m["name"] for m in self._cards[0]["measures"]]
            sub = np.asarray(native.subscores(0))
            for j, name in enumerate(names):
                df[name] = sub[:, j]
        return ScoreTable(df)

    # The result's categorical dtypes are fixed per scorecard: built once, not per call
    # (building a CategoricalDtype validates its categories, a cost on every score()).
    def _range_dtypes(self):
        cached = getattr(self, "_dtypes", {}).get("range")
        if cached is None:
            ranges = self._cards[0]["ranges"]
            cached = (_dtype_of([r[2] or f"{r[0]:g}-{r[1]:g}" for r in ranges]),
                      _dtype_of([r[3] or None for r in ranges]))
            self._cache_dtype("range", cached)
        return cached

    def _card_dtype(self):
        cached = getattr(self, "_dtypes", {}).get("card")
        if cached is None:
            cached = _dtype_of(list(self.names))
            self._cache_dtype("card", cached)
        return cached

    def _cache_dtype(self, key: str, value) -> None:
        if not hasattr(self, "_dtypes"):
            self._dtypes = {}
        self._dtypes[key] = value

    def explain(self, data: Any, account_id: Any, *, previous: Any = None,
                history: Optional[History] = None, as_of: Any = None,
                id_column: Optional[str] = None) -> "Explanation":
        """Why ``account_id`` scored what it did: each measure's raw value, sub-score,
        weight, contribution and points, and (with ``previous``, the earlier snapshot's
        data) which measures moved the score since then."""
        frame, native = self._score_native(data, history, as_of, 1, "full", None, id_column)
        row = frame.row_of(account_id)
        if row is None:
            raise _cscore.NotFoundError(f"account '{account_id}' is not in the data")
        prev = None
        if previous is not None:
            prev = self._score_native(previous, history, as_of, 1, "subscores")[1]
        return Explanation(self._native.explain(native, row, previous=prev))

    def range_of(self, score: float, *, scorecard: int = 0) -> Optional[str]:
        """The scheme label of a score (boundary rule: upper bound included)."""
        i = self._native.range_of(scorecard, float(score))
        return None if i < 0 else self._cards[scorecard]["ranges"][i][2]

    def bands(self, scorecard: int = 0) -> list:
        """[(from, to, color)] of a scorecard's scheme, for plots."""
        return [(r[0], r[1], r[3] or "gray") for r in self._cards[scorecard]["ranges"]]

    def _repr_html_(self) -> str:
        parts = []
        for c in self._cards:
            m = pd.DataFrame(c["measures"]).set_index("name")
            total = m["weight"].sum() or 1.0
            m["weight %"] = 100.0 * m["weight"] / total
            parts.append(html_table(m[["metric", "kind", "weight", "weight %"]],
                                    caption=f"Scorecard '{c['name']}' ({c['aggregation']}, "
                                            f"missing: {c['missing']})"))
            s = pd.DataFrame([{"from": r[0], "to": r[1], "label": r[2]} for r in c["ranges"]])
            parts.append(html_table(s, colors={"*": [r[3] for r in c["ranges"]]}))
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<cscore.Scorecard {self.names}>"


def _unique(values: list) -> list:
    seen, out = set(), []
    for v in values:
        if v not in seen:
            seen.add(v)
            out.append(v)
    return out


def _dtype_of(values: list):
    """(CategoricalDtype, lookup table or None) turning range codes into category codes:
    values may repeat (two ranges labelled alike) or be None (no label)."""
    uniq = _unique([v for v in values if v is not None])
    dtype = pd.CategoricalDtype(uniq)
    if uniq == values:
        return dtype, None
    lut = np.array([uniq.index(v) if v is not None else -1 for v in values] + [-1],
                   dtype=_code_type(len(uniq)))
    return dtype, lut


def _code_type(n: int):
    """The integer type pandas keeps the codes of n categories in."""
    return np.int8 if n < 127 else np.int16 if n < 32767 else np.int32


_TREND = pd.CategoricalDtype(["down", "same", "up"])


def _from_codes(codes: np.ndarray, dtype: pd.CategoricalDtype, lut) -> pd.Categorical:
    """Valid codes (-1 = missing) as a Categorical, without from_codes' validation passes:
    the codes come from the scorer, in range by construction."""
    if lut is not None:
        codes = lut[codes]
    codes = codes.astype(_code_type(len(dtype.categories)), copy=False)
    try:
        return pd.Categorical._simple_new(codes, dtype)
    except (AttributeError, TypeError):  # a pandas without the internal constructor
        return pd.Categorical.from_codes(codes, dtype=dtype)


def _from_yaml_source(text: str, source: str) -> Scorecard:
    return Scorecard.from_yaml(text, source=source)


class ScoreTable(pd.DataFrame):
    """Scores as a DataFrame that renders colored in notebooks."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def _repr_html_(self) -> str:
        colors = {}
        if "color" in self.columns:
            colors["score"] = self["color"]
            colors["label"] = self["color"]
        return html_table(self, colors=colors, caption=f"Health scores ({len(self)} accounts)")


class Explanation:
    """One account's score, broken down by measure."""

    def __init__(self, d: dict):
        self.account_id = d["account_id"]
        self.score = d["score"]
        self.previous = d["previous"]
        self.label = d["label"]
        self.color = d["color"]
        self.measures = pd.DataFrame(d["measures"]).set_index("measure")
        names = list(self.measures.index)
        self.top_movers = [names[i] for i in d["top_movers"]]
        self.top_drivers = [names[i] for i in d["top_drivers"]]

    def _repr_html_(self) -> str:
        m = self.measures
        colors = pd.Series(np.where(m["sub_score"] < 50, "red",
                                    np.where(m["sub_score"] < 75, "yellow", "green")),
                           index=m.index)
        colors[m["sub_score"].isna()] = None
        prev = "" if np.isnan(self.previous) else f", previously {self.previous:.1f}"
        return html_table(m, colors={"sub_score": colors},
                          caption=f"Account {self.account_id}: {self.score:.1f} "
                                  f"({self.label}{prev})")

    def __repr__(self) -> str:
        return (f"<cscore.Explanation {self.account_id}: {self.score:.1f} {self.label}; "
                f"drivers {self.top_drivers[:3]}>")
