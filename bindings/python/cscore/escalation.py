"""Escalation: the organisation behind it, escalation policies of flagged CTAs, and
executive sponsors.

An :class:`Organisation` (``organisation.yaml``: people, teams, reporting lines, the owner
of each risk domain, the sponsor pool) answers "is X above Y" in constant time and draws
itself as Graphviz DOT. An :class:`Escalator` adds ``escalation.yaml``'s policies: for a
flagged CTA it gives the chain of levels with who is notified when, who is accountable now,
which steps are due, and each person's or team's inbox. :meth:`Escalator.escalate` fires the
due steps of a :class:`cscore.CtaStore`'s flagged CTAs as lifecycle events (in the audit
log, idempotent with the returned states). Both load through the CLI's loaders, so errors
read ``file:line:column: message`` exactly as ``cscore validate`` prints them.

    >>> esc = cscore.Escalator.load("config/organisation.yaml", "config/escalation.yaml")
    >>> esc.organisation.is_above("vp-cs", "csm-1")
    True
    >>> fired = esc.escalate(ctas, as_of="2024-03-05", accounts=accounts)
    >>> cscore.assign_sponsors(accounts, pool=esc).assignments
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from . import _cscore
from ._util import day_string, time_micros, timestamp_of, yaml_text

__all__ = ["Organisation", "Escalator", "EscalationChain", "DueSteps", "SponsorPlan",
           "assign_sponsors", "next_checkin", "quarterly_capacity", "load_cost"]

_INPUT_TIMES = ("raised_at", "acknowledged_at", "resolved_at")
_INPUT_COLUMNS = ["id", "account_id", "owner", "domain", "arr", "tier", "renewal_at_risk",
                  "adoption_red", "edm_left", "raised_at", "acknowledged_at", "resolved_at",
                  "policy_id", "policy_version"]
_MAX = np.iinfo(np.int64).max


def _opt_micros(value: Any) -> Optional[int]:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return time_micros(value)


def _cta_dict(cta: Any) -> dict:
    """A CTA escalation input as the core reads it (times in microseconds)."""
    if isinstance(cta, pd.Series):
        d = cta.to_dict()
        if "id" not in d and cta.name is not None:
            d["id"] = cta.name
    else:
        d = dict(cta)
    out = {}
    for k, v in d.items():
        if k in _INPUT_TIMES:
            out[k] = _opt_micros(v)
        elif isinstance(v, np.generic):
            out[k] = v.item()
        elif v is not None and not isinstance(v, (str, bool, int, float)) and pd.isna(v):
            out[k] = None
        else:
            out[k] = v
    if "id" in out:
        out["id"] = int(out["id"])
    return out


def _cta_dicts(ctas: Any) -> list:
    if isinstance(ctas, pd.DataFrame):
        df = ctas if "id" in ctas.columns else ctas.reset_index().rename(
            columns={ctas.index.name or "index": "id"})
        return [_cta_dict(r) for r in df.to_dict("records")]
    return [_cta_dict(c) for c in ctas]


def _targets(targets: Sequence[tuple]) -> list:
    return [f"{kind} {ident}" for kind, ident, _ in targets]


def _time_or_none(micros: Optional[int]) -> Optional[pd.Timestamp]:
    if micros is None or micros >= _MAX or micros <= -_MAX:
        return None
    return timestamp_of(micros).tz_localize(None)


class Organisation:
    """People, teams, reporting lines and domain owners, validated and flattened for
    constant-time "is above" queries (immutable)."""

    __slots__ = ("_native", "_source")

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use Organisation.load, Organisation.from_yaml or Organisation.from_dict")

    @classmethod
    def _make(cls, native: Any, source: tuple) -> "Organisation":
        o = object.__new__(cls)
        o._native = native
        o._source = source
        return o

    @classmethod
    def load(cls, path: str) -> "Organisation":
        """Loads ``organisation.yaml`` (the CLI's loader: errors read file:line:column)."""
        return cls._make(_cscore.OrganisationCore.load(str(path)), ("file", str(path)))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> "Organisation":
        """Builds from organisation YAML text; ``source`` names it in messages."""
        return cls._make(_cscore.OrganisationCore.from_yaml(text, source=source),
                         ("text", text, source))

    @classmethod
    def from_dict(cls, definition: Mapping[str, Any], *, source: str = "<dict>") -> "Organisation":
        """Builds from Python data in the YAML document's shape; errors point into its YAML
        rendering (``<dict>:line:column``)."""
        return cls.from_yaml(yaml_text(dict(definition)), source=source)

    def __reduce__(self):
        return (_organisation_from_source, (self._source,))

    @property
    def people(self) -> pd.DataFrame:
        """One row per person (index: id): name, role, manager, depth (0 at the top), teams."""
        df = pd.DataFrame(self._native.people(),
                          columns=["id", "name", "role", "manager", "depth", "teams"])
        df["manager"] = df["manager"].where(df["manager"] != "", None)
        return df.set_index("id")

    @property
    def teams(self) -> pd.DataFrame:
        """One row per team (index: id): name, members, weekly review day."""
        return pd.DataFrame(self._native.teams(),
                            columns=["id", "name", "members", "review_day"]).set_index("id")

    @property
    def domain_owners(self) -> dict:
        """Risk domain -> owning team ids."""
        return dict(self._native.domain_owners())

    @property
    def sponsor_pool(self) -> dict:
        """The executive sponsor pool: sponsors [(id, capacity per week)], min_arr, costs."""
        return dict(self._native.sponsor_pool())

    def is_above(self, actor: str, owner: str) -> bool:
        """True when ``actor`` is strictly above ``owner`` in the reporting lines (False when
        either is unknown)."""
        return self._native.is_above(actor, owner)

    def reporting_chain(self, person: str) -> list:
        """``person``, their manager, ..., the top."""
        return list(self._native.reporting_chain(person))

    def manager(self, person: str) -> Optional[str]:
        """The person's manager, or None at the top."""
        chain = self.reporting_chain(person)
        return chain[1] if len(chain) > 1 else None

    def nearest_with_role(self, person: str, role: str, *, include_self: bool = False) -> Optional[str]:
        """The nearest person above ``person`` (or ``person`` with include_self) whose role is
        ``role``, or None."""
        return self._native.nearest_with_role(person, role, include_self=include_self)

    def first_with_role(self, role: str) -> Optional[str]:
        """The first person (in definition order) with ``role``, or None."""
        return self._native.first_with_role(role)

    def team_members(self, team: str) -> list:
        """Person ids of a team's members."""
        return list(self._native.team_members(team))

    def to_dot(self) -> str:
        """Graphviz DOT of reporting lines, teams and domain owners."""
        return self._native.to_dot()

    def authority(self) -> Any:
        """The authority a :class:`cscore.CtaStore` uses: admins, or anyone above the owner."""
        return self._native.authority()

    def __len__(self) -> int:
        return self._native.num_people

    def __repr__(self) -> str:
        return (f"<cscore.Organisation {self._native.num_people} people, "
                f"{self._native.num_teams} teams>")


def _organisation_from_source(source: tuple) -> Organisation:
    if source[0] == "file":
        return Organisation.load(source[1])
    return Organisation.from_yaml(source[1], source=source[2])


class EscalationChain(pd.DataFrame):
    """The steps of one CTA's escalation (level, pass, when it fires, whether it has, who it
    notifies); ``attrs`` hold cta_id, policy, version, stopped_at and accountable."""

    @property
    def _constructor(self):
        return pd.DataFrame

    def _repr_html_(self) -> str:
        from .display import html_table
        colors = {"fired": self["fired"].map({True: "red", False: "green"})}
        a = self.attrs
        return html_table(self, colors=colors,
                          caption=f"Escalation of CTA {a.get('cta_id')} ({a.get('policy_id')} "
                                  f"v{a.get('policy_version')}); accountable: "
                                  f"{', '.join(a.get('accountable', []))}")


def _chain_frame(d: dict) -> EscalationChain:
    rows = [{"level": s["level"], "pass": s["repeat"] + 1, "fire_at": _time_or_none(s["fire_at"]),
             "fired": s["fired"], "targets": _targets(s["targets"]),
             "review_on": [r for _, _, r in s["targets"] if r]} for s in d["steps"]]
    df = EscalationChain(pd.DataFrame(rows, columns=["level", "pass", "fire_at", "fired",
                                                     "targets", "review_on"]))
    df.attrs.update(cta_id=d["cta_id"], policy_id=d["policy_id"],
                    policy_version=d["policy_version"],
                    stopped_at=_time_or_none(d["stopped_at"]),
                    accountable=_targets(d["accountable"]))
    return df


class DueSteps:
    """Escalation steps due by a time (not yet fired) and the states to persist."""

    __slots__ = ("_native",)

    def __init__(self, native: Any):
        self._native = native

    @property
    def events(self) -> pd.DataFrame:
        """One row per due step, in firing order: CTA id, account, policy and version, level,
        pass, fire time, targets and the reason recorded in the audit log."""
        rows = [{"cta_id": e["cta_id"], "account_id": e["account_id"],
                 "policy_id": e["policy_id"], "policy_version": e["policy_version"],
                 "level": e["level"], "pass": e["repeat"] + 1,
                 "fire_at": _time_or_none(e["fire_at"]), "targets": _targets(e["targets"]),
                 "reason": e["reason"]} for e in self._native.events()]
        return pd.DataFrame(rows, columns=["cta_id", "account_id", "policy_id", "policy_version",
                                           "level", "pass", "fire_at", "targets", "reason"])

    @property
    def states(self) -> list:
        """[(policy_id, policy_version, next_step)] per input CTA: pass them to the next
        :meth:`Escalator.due` so nothing fires twice."""
        return list(self._native.states())

    def fire(self, store: Any) -> tuple:
        """Fires each step's escalation event on its CTA in ``store`` (as the system actor
        "escalation"); returns (fired, [(event index, why)])."""
        return tuple(self._native.fire(store._native))

    def __len__(self) -> int:
        return len(self._native.events())


class Escalator:
    """Compiled escalation policies over an organisation (immutable, thread-safe)."""

    __slots__ = ("_native", "_organisation", "_source")

    def __init__(self, *args: Any, **kwargs: Any):
        raise TypeError("use Escalator.load, Escalator.from_yaml or Escalator.from_dict")

    @classmethod
    def _make(cls, native: Any, organisation: Organisation, source: tuple) -> "Escalator":
        e = object.__new__(cls)
        e._native = native
        e._organisation = organisation
        e._source = source
        return e

    @classmethod
    def load(cls, organisation: Any, policies: str) -> "Escalator":
        """Loads ``escalation.yaml`` (``policies``) over ``organisation.yaml`` (a path, or an
        :class:`Organisation` already loaded) and checks them together: the CLI's loaders,
        so errors read file:line:column."""
        if isinstance(organisation, Organisation):
            native = _cscore.EscalatorCore.build(organisation._native, "", str(policies), True)
            return cls._make(native, organisation, ("org", organisation, str(policies)))
        native = _cscore.EscalatorCore.load(str(organisation), str(policies))
        return cls._make(native, Organisation.load(organisation),
                         ("file", str(organisation), str(policies)))

    @classmethod
    def from_yaml(cls, organisation: Any, policies: str, *,
                  source: str = "<string>") -> "Escalator":
        """``organisation`` is an :class:`Organisation` or its YAML text; ``policies`` the
        escalation YAML text (``source`` names it in messages)."""
        org = organisation if isinstance(organisation, Organisation) else \
            Organisation.from_yaml(organisation, source="<organisation>")
        native = _cscore.EscalatorCore.build(org._native, policies, source, False)
        return cls._make(native, org, ("text", org, policies, source))

    @classmethod
    def from_dict(cls, organisation: Any, policies: Any, *,
                  source: str = "<dict>") -> "Escalator":
        """Like :meth:`from_yaml` with Python data: ``organisation`` an Organisation or a
        dict, ``policies`` ``{"policies": [...]}`` or a list of policies."""
        org = organisation if isinstance(organisation, Organisation) else \
            Organisation.from_dict(organisation, source="<organisation>")
        if not isinstance(policies, Mapping):
            policies = {"policies": list(policies)}
        return cls.from_yaml(org, yaml_text(dict(policies)), source=source)

    def __reduce__(self):
        return (_escalator_from_source, (self._source,))

    @property
    def organisation(self) -> Organisation:
        """The organisation the policies route through."""
        return self._organisation

    @property
    def sponsor_pool(self) -> dict:
        """The sponsor pool, checked to be people of the organisation."""
        return dict(self._native.sponsor_pool())

    def chain(self, cta: Any, *, at: Any, state: Optional[tuple] = None) -> EscalationChain:
        """The escalation chain of a flagged CTA as known at ``at``.

        ``cta`` is a dict / Series with id, owner, domain, raised_at and optionally
        account_id, arr, tier, renewal_at_risk, adoption_red, edm_left, acknowledged_at,
        resolved_at, policy_id, policy_version (or a row of :meth:`inputs`).
        """
        d = self._native.chain(_cta_dict(cta), time_micros(at), state=state)
        return _chain_frame(d)

    def accountable(self, cta: Any, *, at: Any, state: Optional[tuple] = None) -> list:
        """Who is accountable at ``at``: the targets of the last step fired, else the owner
        (as "person <id>" / "team <id>")."""
        return _targets(self._native.accountable(_cta_dict(cta), time_micros(at), state=state))

    def due(self, ctas: Any, *, as_of: Any, states: Optional[Sequence[tuple]] = None) -> DueSteps:
        """The steps due by ``as_of`` that ``states`` (from the previous call, parallel to
        ``ctas``) have not fired yet. All or nothing: a bad CTA raises, naming it."""
        return DueSteps(self._native.due(_cta_dicts(ctas), list(states or []),
                                         time_micros(as_of)))

    def inbox(self, ctas: Any, *, as_of: Any, person: Optional[str] = None,
              team: Optional[str] = None) -> pd.DataFrame:
        """CTAs waiting on ``person`` (directly or through a team) or on ``team`` at
        ``as_of``, oldest first: cta_id, waiting_since, level."""
        rows = self._native.inbox(_cta_dicts(ctas), person=person, team=team,
                                  as_of_us=time_micros(as_of))
        df = pd.DataFrame(rows, columns=["cta_id", "waiting_since", "level"])
        df["waiting_since"] = [_time_or_none(int(t)) for t in df["waiting_since"]]
        return df

    def path_dot(self, cta: Any, *, at: Any) -> str:
        """Graphviz DOT of one CTA's path: the owner, then each step's targets."""
        return self._native.path_dot(_cta_dict(cta), time_micros(at))

    def inputs(self, store: Any, *, accounts: Optional[pd.DataFrame] = None,
               arr: str = "arr", tier: str = "tier", renewal_at_risk: str = "renewal_at_risk",
               adoption_red: str = "adoption_red", edm_left: str = "edm_left") -> pd.DataFrame:
        """The flagged open CTAs of ``store`` as escalation inputs (index: CTA id). The
        store does not know ARR, tier or the renewal / adoption / decision-maker flags:
        ``accounts`` (indexed by account id) supplies them from the named columns."""
        rows = _cscore.escalation_inputs(store._native)
        df = pd.DataFrame(rows, columns=_INPUT_COLUMNS)
        if accounts is not None and len(df):
            for col, name in ((arr, "arr"), (tier, "tier"), (renewal_at_risk, "renewal_at_risk"),
                              (adoption_red, "adoption_red"), (edm_left, "edm_left")):
                if col in accounts.columns:
                    values = accounts[col].reindex(df["account_id"].to_numpy())
                    if name == "arr":
                        values = values.astype(float).fillna(0.0)
                    elif name == "tier":
                        values = values.astype(object).where(values.notna(), "")
                    else:
                        values = values.fillna(False).astype(bool)
                    df[name] = values.to_numpy()
        for t in _INPUT_TIMES:
            df[t] = [_time_or_none(None if v is None or pd.isna(v) else int(v)) for v in df[t]]
        return df.set_index("id")

    def input_of(self, store: Any, cta_id: int) -> pd.Series:
        """One flagged open CTA of ``store`` as an escalation input (raises for a CTA that is
        unknown, closed or not flagged)."""
        d = _cscore.escalation_input_of(store._native, int(cta_id))
        for t in _INPUT_TIMES:
            d[t] = _time_or_none(d[t])
        return pd.Series(d, name=int(cta_id)).drop("id")

    def escalate(self, store: Any, *, as_of: Any, states: Optional[Mapping[int, tuple]] = None,
                 accounts: Optional[pd.DataFrame] = None, **columns: str) -> pd.DataFrame:
        """Fires every escalation step due by ``as_of`` on the store's flagged CTAs.

        ``states`` maps CTA id -> state from the previous call (``result.attrs["states"]``):
        with it a rerun fires nothing twice. Returns the fired steps (see
        :attr:`DueSteps.events`) with ``attrs["states"]`` and ``attrs["rejected"]``.
        """
        inputs = self.inputs(store, accounts=accounts, **columns)
        ids = [int(i) for i in inputs.index]
        prior = dict(states or {})
        parallel = [] if not prior else [prior.get(i, ("", 0, 0)) for i in ids]
        due = self.due(inputs, as_of=as_of, states=parallel)
        events = due.events
        fired, rejected = due.fire(store)
        new_states = dict(zip(ids, due.states))
        events.attrs["states"] = {**prior, **new_states}
        events.attrs["rejected"] = rejected
        events.attrs["fired"] = fired
        return events

    def __repr__(self) -> str:
        return f"<cscore.Escalator over {self._organisation!r}>"


def _escalator_from_source(source: tuple) -> Escalator:
    if source[0] in ("file", "org"):
        return Escalator.load(source[1], source[2])
    return Escalator.from_yaml(source[1], source[2], source=source[3])


class SponsorPlan:
    """An optimal executive sponsor assignment (lexicographic: strategic accounts first)."""

    __slots__ = ("_native", "_sponsors")

    def __init__(self, native: Any, sponsors: Sequence[str]):
        self._native = native
        self._sponsors = list(sponsors)

    @property
    def assignments(self) -> pd.DataFrame:
        """Index: account id; sponsor, cadence_months (1 strategic, 3 enterprise),
        checkin_minutes and kept (the account keeps its current sponsor)."""
        df = pd.DataFrame(self._native.assigned(),
                          columns=["account_id", "sponsor", "cadence_months", "checkin_minutes",
                                   "kept"])
        return df.set_index("account_id")

    @property
    def unassigned(self) -> list:
        """Eligible accounts left without a sponsor (capacity)."""
        return list(self._native.unassigned)

    @property
    def unassigned_reason(self) -> str:
        """Why accounts were left out; empty when every eligible account has a sponsor."""
        return self._native.unassigned_reason

    @property
    def not_eligible(self) -> int:
        """Accounts below the ARR threshold or of another tier."""
        return self._native.not_eligible

    @property
    def load(self) -> pd.Series:
        """Check-ins a quarter per sponsor."""
        return pd.Series(self._native.load, index=self._sponsors, name="checkins_per_quarter")

    @property
    def costs(self) -> dict:
        """The objective's relationship and imbalance costs."""
        return {"relationship": self._native.relationship_cost,
                "imbalance": self._native.imbalance_cost}

    def cadences(self) -> list:
        """[(account, sponsor, every_months)]: the check-in CTAs :class:`cscore.TimedCtas`
        opens."""
        return list(self._native.cadences())

    def _repr_html_(self) -> str:
        from .display import html_table
        return html_table(self.assignments, caption=f"Sponsors: {len(self.assignments)} assigned, "
                                                    f"{len(self.unassigned)} unassigned")

    def __repr__(self) -> str:
        return (f"<cscore.SponsorPlan {len(self.assignments)} assigned, "
                f"{len(self.unassigned)} unassigned>")


def _pool(pool: Any, min_arr: Optional[float]) -> dict:
    if pool is None:
        raise ValueError("assign_sponsors needs pool= (an Organisation, an Escalator or a dict)")
    if isinstance(pool, (Organisation, Escalator)):
        pool = pool.sponsor_pool
    pool = dict(pool)
    sponsors = pool.get("sponsors", pool.get("pool", []))
    pool["sponsors"] = [(s["id"], float(s.get("capacity", s.get("capacity_per_week", 0))))
                        if isinstance(s, Mapping) else (str(s[0]), float(s[1])) for s in sponsors]
    if min_arr is not None:
        pool["min_arr"] = float(min_arr)
    return pool


def assign_sponsors(accounts: pd.DataFrame, *, pool: Any = None, min_arr: Optional[float] = None,
                    arr: str = "arr", tier: str = "tier",
                    current_sponsor: str = "current_sponsor",
                    sale_sponsor: str = "sale_sponsor") -> SponsorPlan:
    """Assigns executive sponsors to the accounts (indexed by account id) at or above the
    pool's ARR threshold; strategic accounts get a monthly check-in, enterprise a quarterly
    one, within each sponsor's weekly capacity, keeping existing relationships when possible.
    Infeasible capacity is not an error: see :attr:`SponsorPlan.unassigned`."""
    p = _pool(pool, min_arr)

    def col(name: str, default: Any) -> list:
        if name in accounts.columns:
            return accounts[name].tolist()
        return [default] * len(accounts)

    def text(v: Any) -> str:
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    rows = [(str(i), float(a), text(t), text(c), text(s)) for i, a, t, c, s in
            zip(accounts.index, col(arr, 0.0), col(tier, ""), col(current_sponsor, ""),
                col(sale_sponsor, ""))]
    native = _cscore.assign_sponsors(p, rows)
    return SponsorPlan(native, [s for s, _ in p["sponsors"]])


def next_checkin(since: Any, cadence_months: int, as_of: Any) -> pd.Timestamp:
    """The check-in due on or after ``as_of`` of a sponsorship started ``since`` with a
    check-in every ``cadence_months`` (same day of the month, clamped to month end)."""
    return pd.Timestamp(_cscore.next_checkin(day_string(since), int(cadence_months),
                                             day_string(as_of)))


def quarterly_capacity(capacity_per_week: float) -> int:
    """Check-ins a quarter a weekly capacity allows."""
    return _cscore.quarterly_capacity(float(capacity_per_week))


def load_cost(units: int, quarterly_capacity: int, *, costs: Optional[Mapping[str, Any]] = None) -> int:
    """The objective's load cost of a sponsor holding ``units`` check-ins a quarter."""
    return _cscore.load_cost(int(units), int(quarterly_capacity), dict(costs or {}))

