"""CTAs (calls to action): lifecycles and the CTA store, driven from Python.

A :class:`Lifecycle` is the state machine of a CTA type (statuses, events, who may fire
them, guards), loaded from the same YAML as ``lifecycles/*.yaml`` with the same
``file:line:column`` messages. A :class:`CtaStore` holds every CTA of a book in columns; each
call (open, update, fire, close, tasks, comments, timed events) is checked against the
lifecycle and the actor and either applies fully or raises and changes nothing
(:class:`cscore.PermissionDeniedError` when the actor may not, :class:`cscore.NotFoundError`
for an unknown CTA, :class:`cscore.InvalidArgumentError` for an event that does not apply).
Every accepted change is in the audit log, from which :meth:`CtaStore.replay` rebuilds the
store.

    >>> store = cscore.CtaStore()
    >>> cta = store.open("acme", type="Risk", reason="Detractor", domain="sentiment",
    ...                  owner="csm-1", due="2024-03-08", at="2024-03-01")
    >>> store.fire(cta, "start", by="csm-1", role="csm", at="2024-03-02")
    >>> store.to_pandas()          # colored CTA list in a notebook

Times are anything ``pandas.Timestamp`` reads (naive = UTC) or integer seconds.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from . import _cscore
from ._util import time_micros, yaml_text
from .display import html_table

__all__ = ["Lifecycle", "CtaStore", "CtaTable", "AUDIT_DTYPE", "PRIORITIES", "priority_of"]

# The audit log's fixed-size record (cscore::AuditRecord), for CtaStore.audit_records().
AUDIT_DTYPE = np.dtype([
    ("time", "<i8"), ("t0", "<i8"), ("cta", "<i4"), ("actor", "<i4"), ("s0", "<i4"),
    ("s1", "<i4"), ("s2", "<i4"), ("s3", "<i4"), ("kind", "u1"), ("event", "u1"),
    ("from", "u1"), ("to", "u1"), ("role", "u1"), ("a", "u1"), ("b", "u1"), ("c", "u1"),
])
assert AUDIT_DTYPE.itemsize == _cscore.AUDIT_RECORD_SIZE

# Priority names as rules.yaml spells them; 0 is the highest.
PRIORITIES = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
_PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
_PRIORITY_COLORS = {0: "red", 1: "orange", 2: "yellow", 3: "green"}
_CATEGORY_COLORS = {"open": "blue", "closed_success": "green", "closed_lost": "red",
                    "closed_no_action": "gray"}
_AUDIT_KINDS = ["open", "update", "transition", "task", "comment"]
_ROLES = ["csm", "team_lead", "vp", "ceo", "admin", "system"]


def priority_of(value: Any) -> int:
    """A priority as the store keeps it (0 highest): an int 0..255 or urgent / high / medium /
    low."""
    if isinstance(value, str):
        key = value.strip().lower()
        if key in PRIORITIES:
            return PRIORITIES[key]
        if key.isdigit():
            return int(key)
        raise _cscore.InvalidArgumentError(
            f"unknown priority '{value}' (expected urgent, high, medium, low or 0..255)")
    return int(value)


def _micros(value: Any) -> int:
    return time_micros(value)


def _domain(value: Optional[str]) -> Optional[str]:
    return None if value is None else str(value).strip().lower()


def _times(micros: np.ndarray) -> np.ndarray:
    # kNoTime (int64 min) is numpy's NaT, so unset times come out as NaT.
    return np.asarray(micros, dtype=np.int64).view("datetime64[us]").astype("datetime64[ns]")


class Lifecycle:
    """A compiled CTA lifecycle: statuses (each open or a closed outcome), events, and the
    transitions between them with who may fire each."""

    __slots__ = ("_native", "_source")

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use Lifecycle.load, Lifecycle.from_yaml, Lifecycle.from_dict or "
                        "Lifecycle.default")

    @classmethod
    def _make(cls, native: Any, source: Optional[tuple]) -> "Lifecycle":
        lc = object.__new__(cls)
        lc._native = native
        lc._source = source
        return lc

    @classmethod
    def load(cls, path: str) -> "Lifecycle":
        """Loads a lifecycle YAML file (the CLI's loader: errors read file:line:column)."""
        native = _cscore.LifecycleCore.load(str(path))
        with open(path, encoding="utf-8") as f:
            return cls._make(native, (f.read(), str(path)))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> "Lifecycle":
        """Compiles lifecycle YAML text; ``source`` names it in error messages."""
        return cls._make(_cscore.LifecycleCore.from_yaml(text, source=source), (text, source))

    @classmethod
    def from_dict(cls, definition: Mapping[str, Any], *, source: str = "<dict>") -> "Lifecycle":
        """Compiles a lifecycle given as Python data (the YAML document's shape); errors point
        into its YAML rendering (``<dict>:line:column``)."""
        return cls.from_yaml(yaml_text(definition), source=source)

    @classmethod
    def default(cls) -> "Lifecycle":
        """The lifecycle shipped with the library (new -> work_in_progress -> closed_*)."""
        return cls._make(_cscore.LifecycleCore.default(), None)

    @staticmethod
    def default_yaml() -> str:
        """The YAML text of the default lifecycle, a starting point for your own."""
        return _cscore.LifecycleCore.default_yaml()

    @property
    def name(self) -> str:
        """The lifecycle's name."""
        return self._native.name

    @property
    def types(self) -> list:
        """CTA types using this lifecycle (empty: the default lifecycle)."""
        return list(self._native.types)

    @property
    def initial(self) -> str:
        """Status of a new CTA."""
        return self._native.initial

    @property
    def statuses(self) -> pd.DataFrame:
        """Every status and its category (open, closed_success, closed_lost, closed_no_action)."""
        return pd.DataFrame(self._native.statuses, columns=["status", "category"])

    @property
    def events(self) -> list:
        """Event names, in definition order."""
        return list(self._native.events)

    @property
    def timed_events(self) -> dict:
        """The events fired by time: snooze_expiry, due_breach and escalation (or None)."""
        return dict(self._native.timed_events)

    def transitions(self) -> pd.DataFrame:
        """One row per (from status, event): the target status, who may fire it, what it
        records, the reopen window and whether a guard applies."""
        rows = self._native.transitions()
        df = pd.DataFrame(rows, columns=["from", "event", "to", "who", "actions",
                                         "reopen_within_us", "guarded"])
        df["reopen_within"] = pd.to_timedelta(df.pop("reopen_within_us"), unit="us")
        return df

    def __reduce__(self):
        if self._source is None:
            return (Lifecycle.default, ())
        return (_lifecycle_from_yaml, self._source)

    def _repr_html_(self) -> str:
        s = self.statuses.set_index("status")
        colors = {"category": s["category"].map(_CATEGORY_COLORS)}
        return html_table(s, colors=colors,
                          caption=f"Lifecycle '{self.name}' (initial: {self.initial}, "
                                  f"{len(self.events)} events)")

    def __repr__(self) -> str:
        return f"<cscore.Lifecycle '{self.name}' statuses {list(self.statuses['status'])}>"


def _lifecycle_from_yaml(text: str, source: str) -> Lifecycle:
    return Lifecycle.from_yaml(text, source=source)


def _playbooks(playbooks: Optional[Mapping[str, Sequence[Mapping[str, Any]]]]) -> list:
    out = []
    for name, tasks in (playbooks or {}).items():
        specs = []
        for t in tasks:
            t = {"title": t} if isinstance(t, str) else dict(t)
            offset = pd.Timedelta(days=float(t.get("due_in_days", 0)))
            specs.append((str(t["title"]), int(offset // pd.Timedelta(microseconds=1)),
                          str(t.get("owner_role", "csm"))))
        out.append((str(name), specs))
    return out


def _authority(authority: Any) -> Any:
    if authority is None or isinstance(authority, _cscore.Authority):
        return authority
    if hasattr(authority, "authority"):
        return authority.authority()
    raise TypeError("authority must be a cscore.Organisation (or its .authority())")


class CtaTable(pd.DataFrame):
    """CTAs as a DataFrame indexed by CTA id that renders as a colored list in notebooks:
    priority red (urgent) to green (low), category blue (open) / green / red / gray, flagged
    and breached CTAs in red."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def _repr_html_(self) -> str:
        cols = [c for c in ["account_id", "type", "reason", "domain", "priority_label", "owner",
                            "status", "category", "flagged", "breached", "opened", "due"]
                if c in self.columns]
        colors = {}
        if "priority" in self.columns:
            colors["priority_label"] = self["priority"].map(
                lambda p: _PRIORITY_COLORS.get(int(p), "green"))
        if "category" in self.columns:
            colors["category"] = self["category"].map(_CATEGORY_COLORS)
            colors["status"] = colors["category"]
        for flag in ("flagged", "breached"):
            if flag in self.columns:
                colors[flag] = self[flag].map({True: "red", False: None})
        n_open = int((self["category"] == "open").sum()) if "category" in self.columns else 0
        return html_table(self[cols], colors=colors,
                          caption=f"CTAs ({len(self)}, {n_open} open)")

    def plot_aging(self, as_of: Any, **kwargs: Any) -> Any:
        """CTA aging of the open CTAs (see :func:`cscore.plots.cta_aging`)."""
        from . import plots
        kwargs.setdefault("by", "priority_label")
        return plots.cta_aging(self, as_of, opened="opened", **kwargs)


class CtaStore:
    """Every CTA of a book of accounts, moved by its type's :class:`Lifecycle`.

    Parameters
    ----------
    lifecycles:
        One :class:`Lifecycle` per CTA type (a lifecycle with no types is the default);
        without a default, :meth:`Lifecycle.default` is used.
    custom_types:
        CTA types besides Risk, Lifecycle, Expansion, Activity and Objective.
    playbooks:
        ``{name: [{"title": ..., "due_in_days": 3, "owner_role": "csm"}, ...]}``: tasks
        attached to a CTA opened with that playbook.
    authority:
        A :class:`cscore.Organisation`: who counts as up the owner's escalation chain. By
        default team leads, VPs, the CEO and admins are above every owner.
    audit:
        Keep the audit log (needed by :meth:`audit` and :meth:`replay`).
    """

    def __init__(self, *, lifecycles: Iterable[Lifecycle] = (), custom_types: Iterable[str] = (),
                 playbooks: Optional[Mapping[str, Sequence[Any]]] = None, authority: Any = None,
                 audit: bool = True):
        self._lifecycles = list(lifecycles)
        self._custom_types = [str(t) for t in custom_types]
        self._playbooks = _playbooks(playbooks)
        self._authority = _authority(authority)
        self._native = _cscore.CtaStoreCore(
            lifecycles=[lc._native for lc in self._lifecycles], custom_types=self._custom_types,
            playbooks=self._playbooks, authority=self._authority, audit=bool(audit))

    @classmethod
    def replay(cls, records: np.ndarray, strings: Sequence[str], *,
               lifecycles: Iterable[Lifecycle] = (), custom_types: Iterable[str] = (),
               playbooks: Optional[Mapping[str, Sequence[Any]]] = None,
               authority: Any = None) -> "CtaStore":
        """Rebuilds a store from :meth:`audit_records` and :meth:`strings` of another store
        (with the same configuration); a log that does not fold raises, naming the record."""
        store = cls.__new__(cls)
        store._lifecycles = list(lifecycles)
        store._custom_types = [str(t) for t in custom_types]
        store._playbooks = _playbooks(playbooks)
        store._authority = _authority(authority)
        recs = np.ascontiguousarray(records, dtype=AUDIT_DTYPE)
        store._native = _cscore.CtaStoreCore.replay(
            [lc._native for lc in store._lifecycles], store._custom_types, store._playbooks,
            store._authority, recs, [str(s) for s in strings])
        return store

    def __len__(self) -> int:
        return len(self._native)

    # -- changes ---------------------------------------------------------------------------
    def open(self, account: Any, *, type: str = "Risk", reason: str = "",
             domain: Optional[str] = None, priority: Any = 2, owner: str = "", due: Any = None,
             playbook: str = "", by: str = "python", role: str = "system", at: Any) -> int:
        """Opens a CTA in its lifecycle's initial status; returns its id.

        A Risk CTA names its ``domain`` (habit, sentiment, company, support, implementation,
        readiness, product, defect). ``by`` / ``role`` is who opens it: the default system
        actor makes it a rule-like CTA; a person's role (e.g. "csm") makes it manual, which
        the risk scorecard counts. An open CTA with the same account, type and reason raises
        :class:`cscore.AlreadyExistsError`.
        """
        return self._native.open(str(account), type, reason, _domain(domain), priority_of(priority),
                                 owner, None if due is None else _micros(due), playbook, by, role,
                                 _micros(at))

    def update(self, cta_id: int, *, priority: Any = None, due: Any = None,
               clear_due: bool = False, owner: Optional[str] = None, by: str, role: str = "csm",
               at: Any) -> None:
        """Changes priority, due date (``clear_due=True`` removes it) and / or owner."""
        due_arg = "clear" if clear_due else (None if due is None else _micros(due))
        self._native.update(int(cta_id), None if priority is None else priority_of(priority),
                            due_arg, owner, by, role, _micros(at))

    def fire(self, cta_id: int, event: str, *, by: str, role: str = "csm", at: Any,
             reason: str = "", until: Any = None) -> None:
        """Fires a lifecycle event (start, flag, snooze...) as ``by`` with ``role``;
        snoozing events need ``until``."""
        self._native.fire(int(cta_id), event, by, role, _micros(at), reason,
                          None if until is None else _micros(until))

    def fire_batch(self, cta_ids: Iterable[int], event: str, *, by: str, role: str = "system",
                   at: Any) -> tuple:
        """The same event for many CTAs; returns (applied, [(position, why), ...]): a rejected
        CTA changes nothing and the others proceed."""
        return self._native.fire_batch([int(i) for i in cta_ids], event, by, role, _micros(at))

    def close(self, cta_id: int, status: str, *, by: str, role: str = "csm", at: Any,
              reason: str = "") -> None:
        """Closes through the lifecycle's event leading to ``status`` (e.g. closed_success)."""
        self._native.close(int(cta_id), status, by, role, _micros(at), reason)

    def set_task_done(self, cta_id: int, task: int, done: bool = True, *, by: str,
                      role: str = "csm", at: Any) -> None:
        """Marks a playbook task (by position) done or not done."""
        self._native.set_task_done(int(cta_id), int(task), bool(done), by, role, _micros(at))

    def add_comment(self, cta_id: int, text: str, *, by: str, role: str = "csm",
                    at: Any) -> None:
        """Adds a comment (kept in the audit log)."""
        self._native.add_comment(int(cta_id), text, by, role, _micros(at))

    def fire_timed_events(self, as_of: Any) -> dict:
        """Fires snooze expiry and due-date breach for everything due by ``as_of`` (as the
        system); idempotent. Returns ``{"woken": n, "breached": n}``."""
        return dict(self._native.fire_timed_events(_micros(as_of)))

    # -- reading ---------------------------------------------------------------------------
    def find_open(self, account: Any, type: str, reason: str) -> Optional[int]:
        """The open CTA with this account, type and reason, or None."""
        return self._native.find_open(str(account), type, reason)

    def open_of_account(self, account: Any) -> list:
        """Ids of the account's open CTAs, newest first."""
        return list(self._native.open_of_account(str(account)))

    def open_of_domain(self, domain: str) -> list:
        """Ids of the open CTAs in a risk domain, in id order."""
        return list(self._native.open_of_domain(_domain(domain)))

    def flagged(self) -> list:
        """Ids of the flagged open CTAs, in id order."""
        return list(self._native.flagged())

    def to_pandas(self, *, open_only: bool = False) -> CtaTable:
        """Every CTA as a :class:`CtaTable` indexed by CTA id (times as UTC datetimes, NaT
        when unset)."""
        c = self._native.columns()
        n = len(self)
        data = {
            "account_id": c["account_id"], "type": c["type"], "reason": c["reason"],
            "domain": c["domain"], "priority": np.asarray(c["priority"], dtype=np.int64),
            "priority_label": [_PRIORITY_NAMES.get(int(p), str(int(p))) for p in c["priority"]],
            "owner": c["owner"], "source": c["source"],
            "manual": np.asarray(c["manual"], dtype=bool), "status": c["status"],
            "category": c["category"], "flagged": np.asarray(c["flagged"], dtype=bool),
            "snoozed": np.asarray(c["snoozed"], dtype=bool),
            "breached": np.asarray(c["breached"], dtype=bool),
            "snooze_reason": c["snooze_reason"],
            "opened": _times(c["created"]), "due": _times(c["due"]),
            "started": _times(c["started"]), "closed": _times(c["closed"]),
            "flagged_at": _times(c["flagged_at"]), "snooze_until": _times(c["snooze_until"]),
            "updated": _times(c["updated"]),
            "tasks": np.asarray(c["tasks"], dtype=np.int64),
            "tasks_done": np.asarray(c["tasks_done"], dtype=np.int64),
        }
        df = CtaTable(pd.DataFrame(data, index=pd.RangeIndex(n, name="cta_id")))
        if open_only:
            df = CtaTable(df[df["category"] == "open"])
        return df

    def tasks(self, cta_id: int) -> pd.DataFrame:
        """A CTA's playbook tasks: title, due, owner role, done."""
        rows = self._native.tasks(int(cta_id))
        df = pd.DataFrame(rows, columns=["title", "due_us", "owner_role", "done"])
        df.insert(1, "due", _times(df.pop("due_us").to_numpy(dtype=np.int64)))
        return df

    def comments(self) -> pd.DataFrame:
        """Every comment: CTA id, time, author, text."""
        df = pd.DataFrame(self._native.comments(), columns=["cta_id", "time_us", "author", "text"])
        df.insert(1, "time", _times(df.pop("time_us").to_numpy(dtype=np.int64)))
        return df

    def audit_records(self) -> np.ndarray:
        """The audit log as a structured array of :data:`AUDIT_DTYPE` (for :meth:`replay`)."""
        return np.frombuffer(self._native.audit_bytes(), dtype=AUDIT_DTYPE).copy()

    def strings(self) -> list:
        """The interned string table the audit records refer to."""
        return list(self._native.strings())

    def audit(self) -> pd.DataFrame:
        """The audit log, readable: time, CTA id, kind, actor and role, event with its from /
        to status, and the record's text (reason, comment or account)."""
        recs = self.audit_records()
        strings = self.strings()
        lifecycles = {}

        def s(i: int) -> str:
            return "" if i < 0 else strings[i]

        rows = []
        for r in recs:
            kind = _AUDIT_KINDS[int(r["kind"])] if int(r["kind"]) < len(_AUDIT_KINDS) else "?"
            event = from_status = to_status = ""
            cta = int(r["cta"])
            if kind in ("open", "transition") and 0 <= cta < len(self):
                if cta not in lifecycles:
                    lifecycles[cta] = self._native.lifecycle_of(cta)
                lc = lifecycles[cta]
                names = [st for st, _ in lc.statuses]
                to_status = names[int(r["to"])]
                if kind == "transition":
                    event = lc.events[int(r["event"])]
                    from_status = names[int(r["from"])]
            text = s(int(r["s1"])) if kind == "open" else s(int(r["s0"])) \
                if kind in ("transition", "comment") else ""
            role = int(r["role"])
            rows.append({"time": int(r["time"]), "cta_id": cta, "kind": kind,
                         "actor": s(int(r["actor"])),
                         "role": _ROLES[role] if role < len(_ROLES) else str(role),
                         "event": event, "from_status": from_status, "to_status": to_status,
                         "text": text})
        df = pd.DataFrame(rows, columns=["time", "cta_id", "kind", "actor", "role", "event",
                                         "from_status", "to_status", "text"])
        df["time"] = _times(df["time"].to_numpy(dtype=np.int64))
        return df

    def lifecycle_of(self, cta_id: int) -> Lifecycle:
        """The lifecycle that moves a CTA."""
        return Lifecycle._make(self._native.lifecycle_of(int(cta_id)), None)

    @property
    def bytes_used(self) -> int:
        """Memory held by the store's columns, log and indexes."""
        return self._native.bytes_used

    def _repr_html_(self) -> str:
        return self.to_pandas()._repr_html_()

    def __repr__(self) -> str:
        return f"<cscore.CtaStore {len(self)} CTAs, {len(self._native.flagged())} flagged>"
