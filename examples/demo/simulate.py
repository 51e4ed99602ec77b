#!/usr/bin/python3
"""The demo's book of business: a generated SaaS customer base and its next 90 days.

One fixed seed decides everything: the ~2,000 accounts of a B2B SaaS vendor (strategic,
enterprise, SMB and tech-touch segments), their history before day 0, and how each account
evolves day by day afterwards: usage drifts, support tickets come and go, NPS surveys come
back, onboarding milestones are met (or not), renewals come due, a few champions leave, and
some accounts decline and churn. Most churns show leading signals 30-90 days before (usage
falls, tickets pile up, NPS drops, a champion leaves); some do not (a budget cut, an
acquisition), which is what the surprise rate measures.

    simulate.py sample [--out examples/demo/data]  # the shipped accounts.csv (day 0) and
                                                   # accounts-2026-05-25.csv (a week before)
    simulate.py run --out var/demo/data [--days 90]  # day 0 .. day 90, one CSV a day

`run` writes accounts-YYYY-MM-DD.csv for each day (accounts that churned are gone from the
snapshots from their churn day on), churn.csv (the churn outcomes, with the hidden truth of
whether the account showed signals) and events.csv (champions leaving, renewals, new
accounts). Needs only /usr/bin/python3 and numpy; the output is byte-identical run to run.
"""

import argparse
import datetime as dt
import os
import sys

import numpy as np

SEED = 20260601
DAY0 = dt.date(2026, 6, 1)  # a Monday
WARMUP = 120  # days simulated before day 0, so the day-0 snapshot has a history behind it
N0 = 2000  # accounts on day 0
HORIZON = 90  # days after day 0 that new logos, cancellations and departures fall in
SLOTS = 48  # open tickets tracked per account

SEGMENTS = ["strategic", "enterprise", "smb", "tech-touch"]
SEG_SHARE = [0.02, 0.13, 0.35, 0.50]
MILESTONE_DAYS = np.array([7, 21, 45, 60, 90])  # kickoff, integration, migration, training, go-live

COLUMNS = [
    "account_id", "name", "segment", "region", "csm_id", "support_owner", "services_owner",
    "sales_sponsor", "arr",
    "licensed_seats", "start_date", "renewal_date", "days_to_renewal", "qbr_anchor",
    "lifecycle_stage",
    "logins", "logins_30d", "usage_change_30d", "active_users", "active_user_pct",
    "feature_adoption", "trained_pct", "open_tickets", "urgent_tickets", "oldest_ticket_days",
    "sev1_bugs", "blocking_feature_requests", "nps", "last_nps_date", "milestones_done",
    "onboarding_progress", "onboarding_days_late", "champion", "champion_left",
    "champion_changed_at", "edm_engaged", "edm_left", "renewal_at_risk", "last_qbr_date",
    "last_exec_checkin",
]

NAME_A = ["Acme", "Apex", "Arbor", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright",
          "Cedar", "Cobalt", "Copper", "Crest", "Delta", "Ember", "Evergreen", "Falcon",
          "Fjord", "Granite", "Harbor", "Helix", "Horizon", "Indigo", "Iron", "Juniper",
          "Kestrel", "Lumen", "Maple", "Meridian", "Nimbus", "North", "Oak", "Onyx", "Orbit",
          "Pine", "Polar", "Quartz", "Raven", "Ridge", "River", "Sable", "Sierra", "Silver",
          "Slate", "Summit", "Tidal", "Vector", "Willow", "Zenith", "Zephyr"]
NAME_B = ["Analytics", "Bank", "Bio", "Capital", "Cloud", "Data", "Dynamics", "Energy",
          "Foods", "Freight", "Games", "Health", "Insurance", "Labs", "Legal", "Logistics",
          "Media", "Medical", "Motors", "Networks", "Partners", "Pharma", "Retail", "Robotics",
          "Security", "Software", "Solar", "Systems", "Telecom", "Travel"]
NAME_C = ["", "", "", " Inc", " Group", " GmbH", " Ltd", " AG", " SA", " Co"]


def add_months(day, months):
    """Day number `months` calendar months after day number `day` (clipped to month end)."""
    d = DAY0 + dt.timedelta(days=int(day))
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return (dt.date(y, m, min(d.day, last)) - DAY0).days


def iso(day):
    return (DAY0 + dt.timedelta(days=int(day))).isoformat()


_DATE_MIN = -8 * 365  # day numbers of every date the book can hold, formatted once
_DATES = np.array([iso(d) for d in range(_DATE_MIN, 3 * 365)])


def isos(days):
    return _DATES[np.asarray(days, dtype=np.int64) - _DATE_MIN]


class Book:
    """Every account that exists at some point of the window: the day-0 book plus new logos."""

    def __init__(self):
        rng = np.random.default_rng(SEED)
        self.rng = rng
        # Fates are drawn for a fixed horizon, so day 0 does not depend on --days.
        days = HORIZON
        n_new = int(rng.poisson(0.3 * max(days, 1)))
        n = N0 + n_new
        self.n = n
        self.ids = np.array([f"ACC-{i + 1:05d}" for i in range(n)])
        names = set()
        self.name = []
        for i in range(n):
            while True:
                nm = (NAME_A[rng.integers(len(NAME_A))] + " " + NAME_B[rng.integers(len(NAME_B))] +
                      NAME_C[rng.integers(len(NAME_C))])
                if nm not in names:
                    break
            names.add(nm)
            self.name.append(nm)
        self.name = np.array(self.name)
        seg = rng.choice(4, size=n, p=SEG_SHARE)
        self.seg = seg
        self.region = rng.choice(np.array(["amer", "emea", "apac"]), size=n, p=[0.5, 0.35, 0.15])

        # Start day relative to day 0: the book goes back six years; new logos start in the window.
        start = -rng.integers(1, 6 * 365, size=n)
        recent = rng.random(N0) < 0.06  # onboarding at day 0
        start[:N0] = np.where(recent, -rng.integers(1, 120, size=N0), start[:N0])
        start[N0:] = np.sort(rng.integers(1, max(days, 2), size=n_new))
        self.start = start
        # Next renewal: the next contract anniversary after day 0 (annual terms).
        age = -start
        renew = np.where(start > 0, start + 365, 365 - (age % 365))
        renew = np.where(renew == 0, 365, renew)
        self.renew = renew.astype(np.int64)

        lo = np.array([400_000, 90_000, 12_000, 1_200])[seg]
        hi = np.array([2_400_000, 450_000, 90_000, 12_000])[seg]
        arr = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        self.arr = np.round(arr / 100) * 100
        per_seat = np.array([900, 750, 500, 300])[seg] * rng.uniform(0.7, 1.3, size=n)
        self.seats = np.maximum(3, np.round(self.arr / per_seat)).astype(np.int64)

        # Owners: named CSMs for high touch and SMB, the digital programme for tech touch.
        csm = np.empty(n, dtype=object)
        ht = seg <= 1
        csm[ht] = np.array([f"csm-{k}" for k in range(1, 7)])[rng.integers(0, 6, size=ht.sum())]
        smb = seg == 2
        csm[smb] = np.array([f"csm-{k}" for k in range(7, 11)])[rng.integers(0, 4, size=smb.sum())]
        csm[seg == 3] = "csm-digital"
        self.csm = csm.astype(str)
        sponsor = np.full(n, "", dtype=object)
        big = self.arr >= 250_000
        pick = rng.choice(np.array(["cro", "ceo", "vp-cs", ""]), size=n, p=[0.5, 0.15, 0.2, 0.15])
        sponsor[big] = pick[big]
        self.sales_sponsor = sponsor.astype(str)

        # Behaviour.
        self.base_eng = np.clip(rng.beta(6, 3, size=n) * np.array([1.0, 0.97, 0.92, 0.8])[seg],
                                0.08, 0.98)
        self.login_rate = np.exp(rng.normal(0, 0.25, size=n)) * np.array([1.6, 1.5, 1.2, 0.8])[seg]
        self.base_adopt = rng.uniform(30, 90, size=n)
        self.base_trained = rng.uniform(35, 95, size=n)
        self.ticket_rate = 0.008 * self.seats ** 0.6 * np.exp(rng.normal(0, 0.3, size=n))
        self.sentiment = np.clip(rng.normal(0.38, 0.28, size=n), -0.6, 0.95)
        self.survey_phase = rng.integers(0, 90, size=n)
        self.respond_p = np.array([0.8, 0.75, 0.6, 0.4])[seg]
        self.delay = np.exp(rng.normal(0, 0.22, size=n))
        stuck = rng.random(n) < 0.15
        self.delay = np.where(stuck, self.delay * rng.uniform(1.6, 2.2, size=n), self.delay)
        # Planned milestone days (the plan) and the days they are actually met (the plan, late).
        self.milestone_plan = self.start[:, None] + MILESTONE_DAYS[None, :]
        self.milestone_day = self.start[:, None] + np.round(MILESTONE_DAYS[None, :] * self.delay[:, None])

        # A tenth of the book struggles all along (a weak fit, a thin team): lower usage,
        # adoption and sentiment, and twice the churn risk, but most of them renew.
        self.struggling = rng.random(n) < 0.12
        self.base_eng = np.where(self.struggling, self.base_eng * 0.55, self.base_eng)
        self.base_adopt = np.where(self.struggling, self.base_adopt * 0.6, self.base_adopt)
        self.sentiment = np.where(self.struggling, self.sentiment - 0.35, self.sentiment)

        # Relationship.
        self.champion = rng.random(n) < np.array([0.95, 0.9, 0.65, 0.3])[seg]
        self.champion_changed = self.start + rng.integers(0, 60, size=n)
        self.champion_changed = np.minimum(self.champion_changed, np.maximum(self.start, 0))
        self.champion_left = np.zeros(n, dtype=bool)
        self.edm = rng.random(n) < np.array([0.9, 0.8, 0.4, 0.1])[seg]
        self.edm_left = np.zeros(n, dtype=bool)
        self.renewal_risk = np.zeros(n, dtype=bool)  # the renewal forecast's "at risk" flag

        # Fates. Non-renewal at the next anniversary; a few cancel mid-term.
        p_churn = np.array([0.05, 0.07, 0.12, 0.16])[seg] * np.where(self.struggling, 2.0, 0.85)
        churn_at_renewal = (rng.random(n) < p_churn) & (self.renew <= days + 120) & (start <= 0)
        cancel = (rng.random(n) < 0.005) & (start <= -60) & ~churn_at_renewal
        churn_day = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
        churn_day[churn_at_renewal] = self.renew[churn_at_renewal]
        churn_day[cancel] = rng.integers(5, max(days, 6), size=cancel.sum())
        self.churn_day = churn_day
        self.churn_kind = np.where(cancel, "cancellation", np.where(churn_at_renewal, "non_renewal", ""))
        silent = np.where(cancel, rng.random(n) < 0.5, rng.random(n) < 0.2)
        self.silent = silent & (self.churn_kind != "")
        signalled = (self.churn_kind != "") & ~self.silent
        lead = np.where(cancel, rng.integers(30, 61, size=n), rng.integers(30, 91, size=n))
        self.decline_start = np.where(signalled, churn_day - lead, np.iinfo(np.int64).max // 4)
        self.decline_len = rng.integers(20, 45, size=n)
        self.decline_depth = rng.uniform(0.45, 0.85, size=n)
        # What each signalled decline looks like: every one loses usage; some also pile up
        # tickets, lose their champion, hit a product gap.
        cause = rng.choice(4, size=n, p=[0.4, 0.3, 0.15, 0.15])
        self.cause = np.where(signalled, cause, -1)  # 0 adoption, 1 support, 2 champion, 3 product
        self.cause_name = np.array(["", "adoption", "support", "champion left", "product gap"])[self.cause + 1]
        self.cause_name = np.where(self.silent, "no warning (budget cut / acquisition)", self.cause_name)

        # Scares: accounts that dip and recover.
        scare = (rng.random(n) < 0.06) & (self.churn_kind == "")
        self.dip_start = np.where(scare, rng.integers(-40, max(days - 20, -39), size=n), 10**9)
        self.dip_len = rng.integers(20, 50, size=n)
        self.dip_depth = rng.uniform(0.3, 0.6, size=n)

        # Champions leaving inside the window ("a few"), besides the churn causes above.
        self.champion_leave = np.full(n, 10**9, dtype=np.int64)
        ch = self.cause == 2
        self.champion_leave[ch] = self.decline_start[ch]
        self.champion[ch] = True
        cand = np.flatnonzero((seg <= 2) & self.champion & (self.churn_kind == "") & (start < -90))
        extra = rng.choice(cand, size=min(8, len(cand)), replace=False)
        self.champion_leave[extra] = rng.integers(3, max(days - 5, 4), size=len(extra))
        self.replace_after = np.where(rng.random(n) < 0.55, rng.integers(14, 40, size=n), 10**9)
        edm_cand = np.flatnonzero((seg <= 1) & self.edm & (start < -90))
        self.edm_leave = np.full(n, 10**9, dtype=np.int64)
        edm_pick = rng.choice(edm_cand, size=min(3, len(edm_cand)), replace=False)
        self.edm_leave[edm_pick] = rng.integers(10, max(days - 10, 11), size=len(edm_pick))

        # Meetings: quarterly business reviews of high-touch accounts (due every three months
        # from the start date; most are held within days of it) and executive check-ins of the
        # accounts from 250k ARR (monthly for strategic, quarterly for enterprise). Fewer are
        # held while an account declines.
        self.meetings = {}  # day -> [(account, "qbr" | "exec")]
        first, last = -WARMUP - 100, HORIZON + 30
        for i in np.flatnonzero(seg <= 1):
            k = 1
            while True:
                due = add_months(start[i], 3 * k)
                k += 1
                if due > last:
                    break
                if due < first:
                    continue
                troubled = self.decline_start[i] - 10 <= due <= churn_day[i]
                if rng.random() < (0.45 if troubled else 0.88):
                    held = due + int(rng.integers(-10, 6))
                    self.meetings.setdefault(held, []).append((i, "qbr"))
        for i in np.flatnonzero((seg <= 1) & (self.arr >= 250_000)):
            step = 1 if seg[i] == 0 else 3
            d0 = DAY0 + dt.timedelta(days=int(first))
            p = dt.date(d0.year, 1 + (d0.month - 1) // step * step, 1)
            period = (p - DAY0).days
            while period <= last:
                nxt = add_months(period, step)
                troubled = self.decline_start[i] - 10 <= period <= churn_day[i]
                if rng.random() < (0.5 if troubled else 0.9):
                    held = int(rng.integers(period, nxt))
                    self.meetings.setdefault(held, []).append((i, "exec"))
                period = nxt
        self.last_qbr = np.full(n, np.nan)
        self.last_exec = np.full(n, np.nan)

        # State.
        self.noise = np.zeros(n)
        self.adopt = self.base_adopt * 0.5
        self.trained = self.base_trained * 0.3
        self.open_day = np.full((n, SLOTS), np.nan)
        self.urgent = np.zeros((n, SLOTS), dtype=bool)
        self.sev1 = np.zeros(n, dtype=np.int64)
        self.blockers = rng.poisson(0.15, size=n)
        # The survey before the warm-up, for the accounts that answered one.
        answered = (rng.random(n) < self.respond_p + 0.2) & (start < -WARMUP - 30)
        first = np.clip(np.round(100 * self.sentiment + rng.normal(0, 14, size=n)), -100, 100)
        self.nps = np.where(answered, first, np.nan)
        self.nps_day = np.where(answered, -WARMUP - rng.integers(1, 90, size=n), np.nan)
        self.logins_hist = np.zeros((n, 60))  # ring buffer of daily logins
        self.active_users = np.zeros(n, dtype=np.int64)
        self.logins = np.zeros(n, dtype=np.int64)
        self.events = []
        self.churns = []

    def ramp(self, t, start, length):
        x = np.clip((t - start) / np.maximum(length, 1), 0.0, 1.0)
        return x * x * (3 - 2 * x)  # smoothstep: a decline gathers pace, then settles

    def step(self, t):
        rng = self.rng
        n = self.n
        live = (self.start <= t) & (t < self.churn_day)
        age = t - self.start
        decline = self.ramp(t, self.decline_start, self.decline_len)
        dip = self.ramp(t, self.dip_start, 10) * (1 - self.ramp(t, self.dip_start + self.dip_len, 15))

        # Champions and executive decision makers leave; some are replaced.
        leaving = (self.champion_leave == t) & self.champion & live
        for i in np.flatnonzero(leaving):
            if t >= 1:
                self.events.append((t, self.ids[i], "champion_left"))
        self.champion[leaving] = False
        self.champion_left[leaving] = True
        self.champion_changed[leaving] = t
        replaced = self.champion_left & (self.champion_leave + self.replace_after == t) & live
        replaced &= self.cause != 2
        for i in np.flatnonzero(replaced):
            if t >= 1:
                self.events.append((t, self.ids[i], "champion_replaced"))
        self.champion[replaced] = True
        self.champion_left[replaced] = False
        self.champion_changed[replaced] = t
        edm_go = (self.edm_leave == t) & live
        for i in np.flatnonzero(edm_go):
            if t >= 1:
                self.events.append((t, self.ids[i], "edm_left"))
        self.edm[edm_go] = False
        self.edm_left[edm_go] = True

        health = (1 - self.decline_depth * decline) * (1 - self.dip_depth * dip)
        health = health * np.where(self.champion_left & (self.cause != 2), 0.85, 1.0)
        onboarding_ramp = np.clip(0.15 + age / 75.0, 0.0, 1.0)

        self.noise = 0.94 * self.noise + rng.normal(0, 0.025, size=n)
        eng = np.clip(self.base_eng * health * onboarding_ramp * (1 + self.noise), 0.01, 1.0)
        self.active_users = np.where(live, np.round(self.seats * eng), 0).astype(np.int64)
        weekday = (DAY0 + dt.timedelta(days=int(t))).weekday()
        wd = 0.22 if weekday >= 5 else 1.0
        intensity = self.active_users * self.login_rate * wd * (0.45 + 0.55 * health)
        self.logins = np.where(live, rng.poisson(np.maximum(intensity, 0)), 0)
        self.logins_hist[:, t % 60] = self.logins

        target = self.base_adopt * (0.35 + 0.65 * health) * onboarding_ramp
        target = target - np.where(self.cause == 3, 25 * decline, 0)
        self.adopt += 0.06 * (np.clip(target, 0, 100) - self.adopt)
        ttarget = self.base_trained * np.clip(age / 60.0, 0.1, 1.0)
        self.trained += 0.05 * (ttarget - self.trained)

        # Tickets: resolve, then open new ones.
        support_trouble = np.where(self.cause == 1, decline, 0.0) + 0.5 * dip
        is_open = ~np.isnan(self.open_day)
        p_close = np.where(self.urgent, 0.4, 0.17) * (1 - 0.5 * support_trouble)[:, None]
        closing = is_open & (rng.random((n, SLOTS)) < p_close)
        self.open_day[closing] = np.nan
        self.urgent[closing] = False
        rate = self.ticket_rate * (1 + 3.5 * support_trouble + 0.6 * decline)
        rate = rate * np.where(age < 60, 1.6, 1.0)
        new = np.where(live, rng.poisson(rate), 0)
        urgent_p = 0.1 + 0.3 * support_trouble
        free = np.isnan(self.open_day)
        fill = free & (np.cumsum(free, axis=1) <= new[:, None])
        self.open_day[fill] = t
        self.urgent[fill] = (rng.random((n, SLOTS)) < urgent_p[:, None])[fill]
        sev1_rate = np.where(self.seg <= 1, 0.0012, 0.0004) * (1 + 4 * support_trouble)
        self.sev1 += np.where(live, rng.poisson(sev1_rate), 0)
        self.sev1 -= rng.binomial(self.sev1, 0.12)
        gap = (self.cause == 3) & (rng.random(n) < 0.05 * decline)
        self.blockers += gap
        self.blockers -= (self.blockers > 0) & (rng.random(n) < 0.004)

        # NPS surveys every 90 days per account (staggered); not everyone answers.
        due = live & (age >= 30) & ((t - self.survey_phase) % 90 == 0)
        answers = due & (rng.random(n) < self.respond_p)
        mood = self.sentiment - 1.1 * decline - 0.6 * dip - 0.25 * self.champion_left
        score = np.clip(np.round(100 * mood + rng.normal(0, 14, size=n)), -100, 100)
        self.nps = np.where(answers, score, self.nps)
        self.nps_day = np.where(answers, t, self.nps_day)

        # The account team flags a renewal as at risk from what it hears: most declining
        # accounts, some that only dip, a few of the silent churners, once the renewal is near.
        window = live & (self.renew - t <= 90)
        silent_near = self.silent & (self.churn_day - t <= 30)
        p_flag = np.where(decline > 0.4, 0.08, np.where(dip > 0.4, 0.03, 0.0))
        p_flag = np.where(silent_near, 0.02, p_flag)
        self.renewal_risk |= window & (rng.random(n) < p_flag)

        for i, kind in self.meetings.get(t, []):
            if live[i]:
                (self.last_qbr if kind == "qbr" else self.last_exec)[i] = t

        # Renewals and churn.
        renewing = live & (self.renew == t) & (self.churn_day != t)
        for i in np.flatnonzero(renewing):
            if t >= 1:
                self.events.append((t, self.ids[i], "renewed"))
        self.arr = np.where(renewing, np.round(self.arr * 1.04 / 100) * 100, self.arr)
        self.renew = np.where(renewing, self.renew + 365, self.renew)
        self.renewal_risk &= ~renewing
        for i in np.flatnonzero((self.churn_day == t) & (self.start <= t)):
            if t >= 1:
                self.churns.append(i)
        for i in np.flatnonzero(self.start == t):
            if t >= 1:
                self.events.append((t, self.ids[i], "new_account"))

    def snapshot(self, t):
        """The CRM export of day t: one row per live account, by account id."""
        live = np.flatnonzero((self.start <= t) & (t < self.churn_day))
        h = self.logins_hist[live]
        # The ring buffer's last 30 days and the 30 before them, for the rolling usage columns.
        idx_last = [(t - k) % 60 for k in range(30)]
        idx_prev = [(t - 30 - k) % 60 for k in range(30)]
        l30 = h[:, idx_last].sum(axis=1)
        p30 = h[:, idx_prev].sum(axis=1)
        age = t - self.start[live]
        # Only days the account existed count; a young account has no previous month.
        full = age >= 60
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(full & (p30 > 0), 100.0 * (l30 - p30) / p30, np.nan)
        seats = self.seats[live]
        au = self.active_users[live]
        is_open = ~np.isnan(self.open_day[live])
        open_t = is_open.sum(axis=1)
        urgent_t = (self.urgent[live] & is_open).sum(axis=1)
        oldest = np.where(open_t > 0, t - np.nanmin(np.where(is_open, self.open_day[live], np.inf), axis=1), 0)
        md = self.milestone_day[live]
        done = (md <= t).sum(axis=1)
        plan = self.milestone_plan[live]
        nxt = np.where(done < 5, plan[np.arange(len(live)), np.minimum(done, 4)], t)
        late = np.maximum(0, t - nxt)
        days_to_renewal = self.renew[live] - t
        stage = np.where((done < 5) & (age <= 180), "onboarding",
                         np.where(days_to_renewal <= 90, "renewal", "adoption"))
        cols = {
            "account_id": self.ids[live],
            "name": self.name[live],
            "segment": np.array(SEGMENTS)[self.seg[live]],
            "region": self.region[live],
            "csm_id": self.csm[live],
            "support_owner": np.full(len(live), "sup-lead"),
            "services_owner": np.full(len(live), "svc-lead"),
            "sales_sponsor": self.sales_sponsor[live],
            "arr": ints(self.arr[live]),
            "licensed_seats": seats,
            "start_date": isos(self.start[live]),
            "renewal_date": isos(self.renew[live]),
            "days_to_renewal": days_to_renewal,
            # High-touch accounts hold a QBR every quarter from their start date.
            "qbr_anchor": np.where(self.seg[live] <= 1, isos(self.start[live]), ""),
            "lifecycle_stage": stage,
            "logins": self.logins[live],
            "logins_30d": ints(l30),
            "usage_change_30d": fmt(change, 1),
            "active_users": au,
            "active_user_pct": fmt(100.0 * au / seats, 1),
            "feature_adoption": fmt(self.adopt[live], 1),
            "trained_pct": fmt(self.trained[live], 1),
            "open_tickets": open_t,
            "urgent_tickets": urgent_t,
            "oldest_ticket_days": ints(oldest),
            "sev1_bugs": self.sev1[live],
            "blocking_feature_requests": self.blockers[live],
            "nps": fmt(self.nps[live], 0),
            "last_nps_date": dates_or_empty(self.nps_day[live]),
            "milestones_done": done,
            "onboarding_progress": ints(20 * done),
            "onboarding_days_late": ints(late),
            "champion": bools(self.champion[live]),
            "champion_left": bools(self.champion_left[live]),
            "champion_changed_at": isos(self.champion_changed[live]),
            "edm_engaged": bools(self.edm[live]),
            "edm_left": bools(self.edm_left[live]),
            "renewal_at_risk": bools(self.renewal_risk[live]),
            "last_qbr_date": dates_or_empty(self.last_qbr[live]),
            "last_exec_checkin": dates_or_empty(self.last_exec[live]),
        }
        out = [",".join(COLUMNS)]
        columns = [np.asarray(cols[c]).astype(str).tolist() for c in COLUMNS]
        out.extend(",".join(row) for row in zip(*columns))
        return "\n".join(out) + "\n"


def fmt(values, digits):
    values = np.asarray(values, dtype=float)
    # Rounded first, then + 0.0 turns -0.0 into 0.0, so no cell reads "-0.0".
    text = np.char.mod(f"%.{digits}f", np.round(np.nan_to_num(values), digits) + 0.0)
    return np.where(np.isnan(values), "", text)


def dates_or_empty(days):
    days = np.asarray(days, dtype=float)
    return np.where(np.isnan(days), "", isos(np.nan_to_num(days)))


def ints(values):
    return (np.round(np.asarray(values, dtype=float)) + 0.0).astype(np.int64).astype(str)


def bools(values):
    return np.where(np.asarray(values, dtype=bool), "true", "false")


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["sample", "run"])
    ap.add_argument("--out", default=None, help="output directory")
    ap.add_argument("--days", type=int, default=90, help="days simulated after day 0")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    out = args.out or (os.path.join(here, "data") if args.mode == "sample" else "var/demo/data")
    os.makedirs(out, exist_ok=True)
    days = args.days
    book = Book()
    week_before = None
    for t in range(-WARMUP, 1):
        book.step(t)
        if t == -7:
            week_before = book.snapshot(t)
    day0 = book.snapshot(0)
    if args.mode == "sample":
        # Day 0, and the week before it for the trend of `cscore score --history`.
        write(os.path.join(out, "accounts.csv"), day0)
        write(os.path.join(out, f"accounts-{iso(-7)}.csv"), week_before)
        print(f"wrote {os.path.join(out, 'accounts.csv')} ({day0.count(chr(10)) - 1} accounts, "
              f"{DAY0}) and accounts-{iso(-7)}.csv (the week before)")
        return 0
    shipped = os.path.join(here, "data", "accounts.csv")
    if os.path.exists(shipped):
        with open(shipped, encoding="utf-8") as f:
            if f.read() != day0:
                print(f"warning: day 0 differs from {shipped} (a different numpy?); "
                      "the run uses the regenerated day 0", file=sys.stderr)
    write(os.path.join(out, f"accounts-{DAY0.isoformat()}.csv"), day0)
    for t in range(1, days + 1):
        book.step(t)
        write(os.path.join(out, f"accounts-{iso(t)}.csv"), book.snapshot(t))
        if not args.quiet and sys.stderr.isatty():
            print(f"\rsimulating day {t}/{days}", end="", file=sys.stderr, flush=True)
    if not args.quiet and sys.stderr.isatty():
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr)
    lines = ["account_id,name,segment,arr,churn_date,kind,signalled,signal_start,cause"]
    for i in book.churns:
        sig = book.churn_kind[i] != "" and not book.silent[i]
        ds = iso(book.decline_start[i]) if sig else ""
        lines.append(f"{book.ids[i]},{book.name[i]},{SEGMENTS[book.seg[i]]},{book.arr[i]:.0f},"
                     f"{iso(book.churn_day[i])},{book.churn_kind[i]},{'true' if sig else 'false'},"
                     f"{ds},{book.cause_name[i]}")
    write(os.path.join(out, "churn.csv"), "\n".join(lines) + "\n")
    ev = ["date,account_id,event"] + [f"{iso(t)},{a},{e}" for t, a, e in book.events]
    write(os.path.join(out, "events.csv"), "\n".join(ev) + "\n")
    if not args.quiet:
        print(f"simulated {days} days from {DAY0} into {out}: {len(book.churns)} churns, "
              f"{sum(1 for e in book.events if e[2] == 'champion_left')} champions left, "
              f"{sum(1 for e in book.events if e[2] == 'new_account')} new accounts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
