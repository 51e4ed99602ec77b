"""The rules engine: conditions over account data that open, update and close CTAs.

Rules are defined in the shape of ``rules.yaml`` (loaded by the same code as the CLI, with
the same ``file:line:column`` messages): a guard (a CEL ``when`` or a column ``threshold``),
a schedule, actions (``open_cta``, ``close_cta``, ``set_measure``, ``tag``) and re-entry
limits. :meth:`RuleSet.evaluate` compiles the guards against the data's columns and runs
every rule due on ``as_of`` over all accounts in the C++ core, with the GIL released; it
changes nothing and returns the intents. :meth:`RuleRun.apply` writes them to a
:class:`cscore.CtaStore` and records what fired in a :class:`RuleState`, so a rerun of the
day opens nothing new.

    >>> rules = cscore.RuleSet.load("config/rules.yaml")
    >>> run = rules.evaluate(accounts, as_of="2024-03-04", store=ctas, state=state)
    >>> run.intents                       # DataFrame indexed by account id
    >>> run.apply(ctas, state=state)      # {'opened': ..., 'updated': ..., 'closed': ...}

Evaluation is per account and stateless given the store and the state, so a rule set maps
over partitions (``cscore.dask.map_partitions(ddf, rules, method="intents", as_of=...)``).
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

import pandas as pd

from . import _cscore
from ._util import day_string, yaml_text
from .frame import as_frame
from .history import History

__all__ = ["RuleSet", "RuleRun", "RuleState", "TimedCtas", "TimedRun", "parse_schedule",
           "schedule_runs_on", "parse_priority"]


_INTENT_KINDS = ["open", "update", "close", "set_measure", "tag"]


def parse_schedule(text: str) -> str:
    """The canonical form of a schedule ("daily", "weekly on monday", "every 14 days from
    2024-01-01", "quarterly on day 5", "on <column>"); a bad one raises, quoting it."""
    return _cscore.parse_schedule(text)


def schedule_runs_on(schedule: str, day: Any) -> bool:
    """Whether ``schedule`` runs on ``day`` (event schedules run every day)."""
    return _cscore.schedule_runs_on(schedule, day_string(day))


def parse_priority(text: Any) -> int:
    """0 (highest) .. 255 from "urgent" / "high" / "medium" / "low" or a number."""
    return _cscore.parse_priority(str(text))


def _store_native(store: Any) -> Any:
    return None if store is None else store._native


def _state_native(state: Optional["RuleState"]) -> Any:
    return None if state is None else state._native


class RuleState:
    """Re-entry bookkeeping kept between runs: the last day each rule fired for each account,
    and the last day each (account, type, reason) CTA closed (for cooldowns)."""

    __slots__ = ("_native",)

    def __init__(self):
        self._native = _cscore.RuleStateCore()

    def record_fired(self, rule: str, account: Any, day: Any) -> None:
        """Notes that ``rule`` fired for ``account`` on ``day``."""
        self._native.record_fired(rule, str(account), day_string(day))

    def record_close(self, account: Any, type: str, reason: str, day: Any) -> None:
        """Notes a CTA closed outside the rules (by a person), for cooldowns."""
        self._native.record_close(str(account), type, reason, day_string(day))

    def last_fired(self, rule: str, account: Any) -> Optional[pd.Timestamp]:
        """The last day ``rule`` fired for ``account``, or None."""
        d = self._native.last_fired(rule, str(account))
        return None if d is None else pd.Timestamp(d)

    def last_close(self, account: Any, type: str, reason: str) -> Optional[pd.Timestamp]:
        """The last day this CTA key closed, or None."""
        d = self._native.last_close(str(account), type, reason)
        return None if d is None else pd.Timestamp(d)

    def to_pandas(self) -> pd.DataFrame:
        """Every recorded (rule, account, last day fired), sorted."""
        df = pd.DataFrame(self._native.fired(), columns=["rule", "account_id", "last_fired"])
        df["last_fired"] = pd.to_datetime(df["last_fired"])
        return df.sort_values(["rule", "account_id"], ignore_index=True)

    def __repr__(self) -> str:
        return f"<cscore.RuleState {len(self._native.fired())} (rule, account) entries>"


class RuleRun:
    """The intents of one evaluation; nothing has been applied yet."""

    __slots__ = ("_native", "_index_name", "_as_of")

    def __init__(self, native: Any, index_name: Optional[str], as_of: str):
        self._native = native
        self._index_name = index_name or "account_id"
        self._as_of = as_of

    @property
    def as_of(self) -> pd.Timestamp:
        """The day evaluated."""
        return pd.Timestamp(self._as_of)

    @property
    def intents(self) -> pd.DataFrame:
        """One row per intent, indexed by account id: rule, kind (open / update / close /
        set_measure / tag), the CTA it updates or closes, due day and the action's details
        (type, reason, domain, priority, owner, playbook, close status, measure, tag)."""
        d = self._native.intents()
        index = pd.Index(d.pop("account_id"), name=self._index_name, dtype=object)
        df = pd.DataFrame(d, index=index)
        df["due"] = pd.to_datetime(df["due"].where(df["due"] != "", None))
        df["kind"] = pd.Categorical(df["kind"], categories=_INTENT_KINDS)
        return df

    @property
    def fired(self) -> pd.DataFrame:
        """The (rule, account) pairs that produced at least one intent."""
        return pd.DataFrame(self._native.fired(), columns=["rule", "account_id"])

    @property
    def stats(self) -> dict:
        """rules_run, rows_matched, intents, fired, suppressed_snoozed, suppressed_reentry."""
        return dict(self._native.stats())

    def apply(self, store: Any, *, state: Optional[RuleState] = None) -> dict:
        """Opens, updates and closes through ``store`` (as the system actor named after each
        rule) and records the run in ``state``. Returns counts (opened, updated, closed,
        unchanged), ``passed_on`` (indexes of set_measure / tag intents, left to the caller)
        and ``rejected`` ([(intent index, why)]): a rejected intent changes nothing and the
        others proceed."""
        st = state if state is not None else RuleState()
        return dict(self._native.apply(store._native, st._native, self._as_of))

    def record(self, state: RuleState) -> None:
        """Records what fired in ``state`` without applying (a dry run that still counts)."""
        self._native.record(state._native, self._as_of)

    def __len__(self) -> int:
        return int(self._native.stats()["intents"])

    def __repr__(self) -> str:
        s = self.stats
        return (f"<cscore.RuleRun {self._as_of}: {s['rules_run']} rules, {s['rows_matched']} "
                f"matches, {s['intents']} intents>")


class RuleSet:
    """Rule definitions, compiled against each data set's columns when evaluated (compiled
    sets are cached per schema). Picklable by definition, so Dask / Spark workers rebuild it.
    """

    __slots__ = ("_defs", "_source", "_context", "_cache")

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use RuleSet.load, RuleSet.from_yaml or RuleSet.from_dict")

    @classmethod
    def _make(cls, defs: Any, source: tuple, context: Optional[dict] = None) -> "RuleSet":
        r = object.__new__(cls)
        r._defs = defs
        r._source = source
        r._context = dict(context or {})
        r._cache = {}
        return r

    @classmethod
    def load(cls, path: str, *, also_allowed: Sequence[str] = ("timed", "playbooks"),
             **context: Any) -> "RuleSet":
        """Loads a ``rules.yaml`` file (the CLI's loader and messages); ``also_allowed`` are
        top-level keys other loaders read (the engine's timed CTAs and playbooks).
        ``context`` sets :meth:`evaluate`'s measures / playbooks / close_statuses /
        owner_columns defaults."""
        defs = _cscore.RuleDefsCore.load(str(path), also_allowed=list(also_allowed))
        return cls._make(defs, ("file", str(path), list(also_allowed)), context)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>", **context: Any) -> "RuleSet":
        """Parses rules YAML text; errors read ``source:line:column: message``."""
        return cls._make(_cscore.RuleDefsCore.from_yaml(text, source=source),
                         ("text", text, source), context)

    @classmethod
    def from_dict(cls, definition: Mapping[str, Any], *, source: str = "<dict>",
                  **context: Any) -> "RuleSet":
        """Rules given as Python data: ``{"rules": [...]}`` or a list of rules. Errors point
        into the YAML rendering (``<dict>:line:column``)."""
        if not isinstance(definition, Mapping):
            definition = {"rules": list(definition)}
        return cls.from_yaml(yaml_text(dict(definition)), source=source, **context)

    def __reduce__(self):
        return (_rules_from_source, (self._source, self._context))

    @property
    def rules(self) -> pd.DataFrame:
        """One row per rule: name, when, threshold (bool), schedule, number of actions,
        re-entry limits and where it is defined (file:line:column)."""
        return pd.DataFrame(self._defs.rules).set_index("name")

    def __len__(self) -> int:
        return len(self._defs.rules)

    def compiled(self, data: Any, *, history: Optional[History] = None,
                 measures: Optional[Sequence[str]] = None,
                 playbooks: Optional[Sequence[str]] = None,
                 close_statuses: Optional[Sequence[str]] = None,
                 owner_columns: Optional[Mapping[str, str]] = None) -> Any:
        """The rule set compiled against ``data``'s columns (and ``history``'s metrics):
        unknown columns, metrics, measures or playbooks and guards that do not compile raise
        with the rule's config location. Empty lists skip that check."""
        frame = as_frame(data)
        ctx = dict(self._context)
        for key, value in (("measures", measures), ("playbooks", playbooks),
                           ("close_statuses", close_statuses), ("owner_columns", owner_columns)):
            if value is not None:
                ctx[key] = value
        owners = sorted(dict(ctx.get("owner_columns") or {}).items())
        key = (tuple(frame._native.schema), None if history is None else tuple(history.metrics),
               tuple(ctx.get("measures") or ()), tuple(ctx.get("playbooks") or ()),
               tuple(ctx.get("close_statuses") or ()), tuple(owners))
        native = self._cache.get(key)
        if native is None:
            native = self._defs.compile(frame._native,
                                        None if history is None else history._native,
                                        measures=list(ctx.get("measures") or ()),
                                        playbooks=list(ctx.get("playbooks") or ()),
                                        close_statuses=list(ctx.get("close_statuses") or ()),
                                        owner_columns=owners)
            self._cache[key] = native
        return native

    def evaluate(self, data: Any, *, as_of: Any, history: Optional[History] = None,
                 store: Any = None, state: Optional[RuleState] = None,
                 id_column: Optional[str] = None, **context: Any) -> RuleRun:
        """Runs every rule due on ``as_of`` over every account; returns the intents.

        ``store`` (a :class:`cscore.CtaStore`) supplies the open CTAs for dedup (an open CTA
        with the same account, type and reason is updated, not opened again), snoozes and
        closes; ``state`` the re-entry limits. ``context``: see :meth:`compiled`.
        """
        frame = as_frame(data, id_column=id_column)
        native = self.compiled(frame, history=history, **context)
        run = native.evaluate(frame._native, day_string(as_of),
                              history=None if history is None else history._native,
                              store=_store_native(store), state=_state_native(state))
        return RuleRun(run, frame.index.name, day_string(as_of))

    def intents(self, data: Any, *, as_of: Any, id_column: Optional[str] = None,
                **kwargs: Any) -> pd.DataFrame:
        """:meth:`evaluate` returning the intents DataFrame (for partition mapping; with
        ``id_column`` the ids come from that column)."""
        return self.evaluate(data, as_of=as_of, id_column=id_column, **kwargs).intents

    def run(self, data: Any, *, as_of: Any, store: Any, state: Optional[RuleState] = None,
            history: Optional[History] = None, id_column: Optional[str] = None,
            **context: Any) -> dict:
        """Evaluates and applies in one call; returns :meth:`RuleRun.apply`'s report."""
        run = self.evaluate(data, as_of=as_of, history=history, store=store, state=state,
                            id_column=id_column, **context)
        return run.apply(store, state=state)

    def _repr_html_(self) -> str:
        from .display import html_table
        return html_table(self.rules, caption=f"Rules ({len(self)})")

    def __repr__(self) -> str:
        return f"<cscore.RuleSet {list(self.rules.index)}>"


def _rules_from_source(source: tuple, context: dict) -> RuleSet:
    if source[0] == "file":
        return RuleSet.load(source[1], also_allowed=source[2], **context)
    return RuleSet.from_yaml(source[1], source=source[2], **context)


_TIMED_KEYS = {
    "milestone": {"name", "start_column", "days", "lead_days", "cta"},
    "qbr": {"name", "start_column", "every_months", "lead_days", "cta"},
    "check_ins": {"name", "cta"},
    "cta": {"type", "reason", "priority", "playbook", "owner_role"},
}


def _checked(kind: str, d: Mapping[str, Any]) -> dict:
    d = dict(d)
    unknown = set(d) - _TIMED_KEYS[kind]
    if unknown:
        raise _cscore.InvalidArgumentError(
            f"{kind}: unknown key(s) {sorted(unknown)} (expected {sorted(_TIMED_KEYS[kind])})")
    if "cta" in d:
        cta = _checked("cta", d["cta"])
        if "priority" in cta:
            cta["priority"] = parse_priority(cta["priority"])
        d["cta"] = cta
    return d


class TimedRun:
    """Timed CTA intents of one day; nothing applied yet."""

    __slots__ = ("_native", "_as_of")

    def __init__(self, native: Any, as_of: str):
        self._native = native
        self._as_of = as_of

    @property
    def intents(self) -> pd.DataFrame:
        """One row per CTA to open, indexed by account id: source definition, type, reason,
        priority, playbook, owner, due and the day the occurrence became openable."""
        d = self._native.intents()
        index = pd.Index(d.pop("account_id"), name="account_id", dtype=object)
        df = pd.DataFrame(d, index=index)
        df["due"] = pd.to_datetime(df["due"])
        df["window_start"] = pd.to_datetime(df["window_start"])
        return df

    def apply(self, store: Any, *, state: Optional[RuleState] = None) -> tuple:
        """Opens each intent in ``store``; returns (opened, [(index, why)])."""
        st = state if state is not None else RuleState()
        return tuple(self._native.apply(store._native, st._native, self._as_of))

    def __len__(self) -> int:
        return len(self._native.intents()["source"])


class TimedCtas:
    """CTAs that open on dates: onboarding milestones, QBRs and executive check-ins.

    Parameters
    ----------
    milestones:
        ``[{"name": "onboarding", "start_column": "onboarded_at", "days": [30, 60, 90],
        "lead_days": 7, "cta": {...}}]``: one CTA per day offset from a timestamp column.
    qbrs:
        ``[{"name": "qbr", "start_column": "contract_start", "every_months": 3,
        "lead_days": 21, "cta": {...}}]``.
    check_ins:
        ``{"name": "exec_checkin", "cta": {...}}``: one per period per sponsored account.

    ``cta`` templates take type, reason, priority, playbook and owner_role.
    """

    __slots__ = ("_defs", "_cache")

    def __init__(self, *, milestones: Iterable[Mapping[str, Any]] = (),
                 qbrs: Iterable[Mapping[str, Any]] = (),
                 check_ins: Optional[Mapping[str, Any]] = None):
        self._defs = {
            "milestones": [_checked("milestone", m) for m in milestones],
            "qbrs": [_checked("qbr", q) for q in qbrs],
            "check_ins": None if check_ins is None else _checked("check_ins", check_ins),
        }
        self._cache = {}

    @classmethod
    def from_dict(cls, definition: Mapping[str, Any]) -> "TimedCtas":
        """From ``{"milestones": [...], "qbrs": [...], "check_ins": {...}}`` (the ``timed``
        section of the engine's rules.yaml)."""
        unknown = set(definition) - {"milestones", "qbrs", "check_ins"}
        if unknown:
            raise _cscore.InvalidArgumentError(f"timed: unknown key(s) {sorted(unknown)}")
        return cls(**dict(definition))

    def __reduce__(self):
        return (_timed_from_defs, (self._defs,))

    def _compiled(self, frame: Any) -> Any:
        key = tuple(frame._native.schema)
        native = self._cache.get(key)
        if native is None:
            native = _cscore.TimedCtasCore.compile(self._defs["milestones"], self._defs["qbrs"],
                                                   self._defs["check_ins"], frame._native)
            self._cache[key] = native
        return native

    def evaluate(self, data: Any, *, as_of: Any, sponsors: Any = None, store: Any = None,
                 state: Optional[RuleState] = None, id_column: Optional[str] = None) -> TimedRun:
        """The timed CTAs openable on ``as_of``. ``sponsors`` is a
        :class:`cscore.SponsorPlan` or a DataFrame with account_id, sponsor and every_months
        (1 strategic, 3 enterprise); ``store`` and ``state`` make reruns open nothing."""
        frame = as_frame(data, id_column=id_column)
        rows = []
        if sponsors is not None:
            if hasattr(sponsors, "cadences"):
                rows = sponsors.cadences()
            else:
                df = sponsors.reset_index() if "account_id" not in sponsors else sponsors
                rows = [(str(a), str(s), int(m)) for a, s, m in
                        zip(df["account_id"], df["sponsor"], df["every_months"])]
        native = self._compiled(frame).evaluate(frame._native, rows, day_string(as_of),
                                                store=_store_native(store),
                                                state=_state_native(state))
        return TimedRun(native, day_string(as_of))

    def __repr__(self) -> str:
        return (f"<cscore.TimedCtas {len(self._defs['milestones'])} milestones, "
                f"{len(self._defs['qbrs'])} QBRs, check-ins "
                f"{'on' if self._defs['check_ins'] is not None else 'off'}>")


def _timed_from_defs(defs: dict) -> TimedCtas:
    return TimedCtas(**defs)

