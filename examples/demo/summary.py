#!/usr/bin/python3
"""What scripts/demo prints about the simulated 90 days: the CS leader's summary.

    summary.py --progress REPORT.json --day I --of N [--elapsed S]   # one line per run
    summary.py --db var/demo.db --reports var/demo/reports --data var/demo/data \
               --cscore build/bin/cscore --config examples/demo/config

The summary reads the daily run reports (`cscore run --json`, one file a day), the store's
per-day score series (the `score/color` and `risk/*` series the run keeps for every
account) and the simulation's churn outcomes (churn.csv), and asks `cscore score --json`
for the drivers of the accounts it lists. Only /usr/bin/python3 (sqlite3, json) and numpy.
"""

import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys

import numpy as np

TTY = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
DOMAINS = ["habit", "sentiment", "company", "support", "implementation", "readiness", "product",
           "defect"]
COLOR_NAMES = {0: "green", 1: "yellow", 2: "red"}


def paint(text, color, bold=False):
    if not TTY:
        return text
    code = {"green": "32", "yellow": "33", "red": "31"}.get(color, "")
    if bold:
        code = "1;" + code if code else "1"
    return f"\033[{code}m{text}\033[0m" if code else text


def title(text):
    print(paint(f"== {text}", "", bold=True))


def money(v):
    if v >= 1e6:
        return f"${v / 1e6:.1f}M"
    if v >= 1e3:
        return f"${v / 1e3:.0f}k"
    return f"${v:.0f}"


def driver(m):
    """ "nps 25 (-12)": a driver's sub-score and the value it read."""
    text = f"{m['measure']} {m['sub_score']:.0f}"
    return text + f" ({m['value']})" if m.get("value") else text


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def progress(args):
    r = load_json(args.progress)
    h = r.get("health", {})
    # CTA counts since the previous line (--since: its day number), from the day reports.
    folder = os.path.dirname(args.progress)
    days = sorted(f for f in os.listdir(folder) if f.endswith(".json"))
    window = days[args.since:args.day] if args.since < args.day else days[args.day - 1:args.day]
    c = {}
    for f in window:
        for k, v in load_json(os.path.join(folder, f)).get("ctas", {}).items():
            c[k] = c.get(k, 0) + v
    c["open"] = r.get("ctas", {}).get("open", c.get("open", 0))
    parts = [f"day {args.day:>2}/{args.of} {r['date']}", f"{r.get('accounts', 0):>5} accounts",
             paint(f"green {h.get('green', 0):>4}", "green"),
             paint(f"yellow {h.get('yellow', 0):>4}", "yellow"),
             paint(f"red {h.get('red', 0):>4}", "red")]
    if "steps" in r and any(s not in ("ingest", "health", "report") for s in r["steps"]):
        parts.append(f"CTAs +{c.get('opened', 0)} opened, {c.get('closed', 0)} closed, "
                     f"{c.get('escalated', 0)} escalated" +
                     (f", {c['open']} open" if "open" in c else ""))
    if args.elapsed:
        parts.append(f"({args.elapsed} s)")
    print("  " + "  ".join(parts), flush=True)


class Store:
    """Read-only view of the run's SQLite store: the registry and the per-day series."""

    def __init__(self, path):
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.ids = [r[0] for r in self.db.execute("SELECT account_id FROM accounts ORDER BY idx")]
        self.index = {a: i for i, a in enumerate(self.ids)}

    def series(self, name, day):
        row = self.db.execute("SELECT n, data FROM series WHERE name = ? AND date = ?",
                              (name, day)).fetchone()
        out = np.full(len(self.ids), np.nan)
        if row is None:
            return None
        v = np.frombuffer(row[1], dtype="<f8")
        out[: len(v)] = v
        return out

    def days(self, name):
        return [r[0] for r in self.db.execute(
            "SELECT date FROM series WHERE name = ? ORDER BY date", (name,))]

    def has_table(self, name):
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                               (name,)).fetchone() is not None


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def drivers_of(args, day, accounts):
    """Top drivers of the given accounts on `day`, from `cscore score --json`."""
    data = os.path.join(args.data, f"accounts-{day}.csv")
    if not args.cscore or not os.path.exists(data):
        return {}
    cmd = [args.cscore, "score", "--config", args.config, "--data", data, "--history", args.data,
           "--json"]
    try:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    except (subprocess.CalledProcessError, OSError):
        return {}
    wanted = set(accounts)
    res = {}
    for s in json.loads(out)["scores"]:
        if s["account"] in wanted:
            res[s["account"]] = s
    return res


def summary(args):
    reports = sorted(f for f in os.listdir(args.reports) if f.endswith(".json"))
    if not reports:
        sys.exit("summary: no run reports")
    runs = [load_json(os.path.join(args.reports, f)) for f in reports]
    first, last = runs[0]["date"], runs[-1]["date"]
    store = Store(args.db)
    snapshot = {r["account_id"]: r for r in read_csv(os.path.join(args.data, f"accounts-{last}.csv"))}
    churn = read_csv(os.path.join(args.data, "churn.csv"))
    events = read_csv(os.path.join(args.data, "events.csv"))

    # Health distribution on the last day.
    h = runs[-1]["health"]
    total = sum(h.get(k, 0) for k in ("green", "yellow", "red", "unscored"))
    title(f"Health distribution on {last} ({runs[-1]['accounts']:,} accounts, after {len(runs)} daily runs from {first})")
    h0 = runs[0]["health"]
    for key in ("green", "yellow", "red", "unscored"):
        k = h.get(key, 0)
        if key == "unscored" and k == 0:
            continue
        bar = "█" * int(round(40 * k / max(total, 1)))
        share = 100.0 * k / max(total, 1)
        print(f"  {paint(f'{key:<8}', key)} {k:>6,}  {share:5.1f}%  {paint(bar, key)}"
              f"   (day 1: {h0.get(key, 0):,})")
    print()

    # The red review list: red accounts above the ARR threshold, largest ARR at risk first.
    color = store.series("score/color", last)
    risk = store.series("risk/domains", last)
    red = []
    for a, row in snapshot.items():
        i = store.index.get(a)
        if i is None:
            continue
        health_red = color is not None and color[i] == 2
        red_domains = []
        if risk is not None and not np.isnan(risk[i]):
            packed = int(risk[i])
            red_domains = [d for k, d in enumerate(DOMAINS) if (packed >> (2 * k)) & 3 == 2]
        arr = float(row["arr"])
        if arr >= args.min_arr and (health_red or red_domains):
            red.append((arr, a, health_red, red_domains))
    red.sort(key=lambda x: (-x[0], x[1]))
    at_risk = sum(x[0] for x in red)
    what = "red health or a red risk domain" if risk is not None else "red health"
    title(f"Red review list on {last}: {len(red)} accounts with ARR >= {money(args.min_arr)} and "
          f"{what}, {money(at_risk)} ARR at risk")
    drivers = drivers_of(args, last, [x[1] for x in red[: args.top]])
    print(f"  {'account':<10} {'name':<24} {'segment':<10} {'ARR':>10}  {'score':>6}  "
          f"{'red domains':<28} top drivers")
    for arr, a, health_red, doms in red[: args.top]:
        row = snapshot[a]
        d = drivers.get(a)
        score = f"{d['score']:.0f}" if d and d["score"] is not None else "n/a"
        hc = d["color"] if d else ("red" if health_red else "")
        drv = ", ".join(driver(m) for m in d["drivers"]) if d else ""
        print(f"  {a:<10} {row['name'][:24]:<24} {row['segment']:<10} {arr:>10,.0f}  "
              f"{paint(f'{score:>6}', hc)}  {','.join(doms) or '-':<28} {drv}")
    if len(red) > args.top:
        print(f"  ... and {len(red) - args.top} more")
    print()

    # CTAs over the window.
    keys = ["opened", "updated", "closed", "escalated", "breached", "woken"]
    tot = {k: sum(r.get("ctas", {}).get(k, 0) for r in runs) for k in keys}
    title(f"CTAs over the {len(runs)} days")
    if not any(tot.values()) and all(set(r.get("steps", [])) <= {"ingest", "health", "report"}
                                     for r in runs):
        print("  none: this build's daily run does ingest and health only (no rules step yet)")
    else:
        line = (f"  opened {tot['opened']:,}, updated {tot['updated']:,}, closed {tot['closed']:,}, "
                f"escalated {tot['escalated']:,}")
        if "open" in runs[-1].get("ctas", {}):
            line += f"; open at the end: {runs[-1]['ctas']['open']:,}"
        if tot["breached"]:
            line += f"; due dates missed: {tot['breached']:,}"
        print(line)
        timed = sum(r.get("timed", {}).get("opened", 0) for r in runs)
        checkins = sum(r.get("timed", {}).get("check_ins", 0) for r in runs)
        if timed:
            print(f"  of which timed (onboarding milestones, QBRs, executive check-ins): {timed:,}"
                  f" ({checkins:,} executive check-ins)")
        sp = runs[-1].get("sponsors", {})
        if sp.get("assigned"):
            print(f"  executive sponsors: {sp['assigned']} accounts sponsored"
                  + (f", {sp['unassigned']} eligible without one" if sp.get("unassigned") else ""))
        log = os.path.join(os.path.dirname(os.path.normpath(args.reports)), "csm.log")
        if os.path.exists(log):
            with open(log, encoding="utf-8") as f:
                n = sum(int(line.split("flagged ")[1].split()[0]) for line in f if "flagged " in line)
            print(f"  CSMs flagged {n} urgent risks of accounts from $100k ARR for help "
                  f"(examples/demo/csm.py; var/demo/csm.log)")
        esc = [e for r in runs for e in r.get("escalations", [])]
        if esc:
            print(f"  escalation steps fired: {len(esc)}, e.g. {esc[0]}")
    risk_red = runs[-1].get("risk", {})
    if any(risk_red.get(d, 0) for d in DOMAINS):
        print("  risk domains red on the last day: " +
              ", ".join(f"{d} {risk_red.get(d, 0)}" for d in DOMAINS))
    print()

    # Churn and the surprise rate: was the account green before it churned?
    title(f"Churn in the simulation: {len(churn)} accounts, "
          f"{money(sum(float(c['arr']) for c in churn))} ARR")
    left = sum(1 for e in events if e["event"] == "champion_left")
    renewed = sum(1 for e in events if e["event"] == "renewed")
    new = sum(1 for e in events if e["event"] == "new_account")
    print(f"  (also: {renewed} renewals, {new} new accounts, {left} champions left)")
    score_days = store.days("score/color")
    cache = {}

    def color_on(day, account):
        if day not in cache:
            cache[day] = store.series("score/color", day)
        v = cache[day]
        i = store.index.get(account)
        if v is None or i is None or np.isnan(v[i]):
            return None
        return COLOR_NAMES[int(v[i])]

    def last_before(day, offset):
        target = (dt.date.fromisoformat(day) - dt.timedelta(days=offset)).isoformat()
        cands = [d for d in score_days if d <= target]
        return cands[-1] if cands else None

    horizons = [("the last run before churning", 1), ("30 days before churning", 30)]
    counts = {}
    for label, off in horizons:
        seen = {"green": 0, "yellow": 0, "red": 0}
        for c in churn:
            d = last_before(c["churn_date"], off)
            if d is None or d < first:
                continue
            col = color_on(d, c["account_id"])
            if col:
                seen[col] += 1
        counts[label] = seen
    for label, _ in horizons:
        seen = counts[label]
        n = sum(seen.values())
        if n == 0:
            continue
        rate = 100.0 * seen["green"] / n
        print(f"  surprise rate, {label}: {paint(f'{rate:.0f}%', 'red' if rate > 25 else 'yellow')}"
              f" ({seen['green']} of {n} churned accounts were green; "
              f"{seen['yellow']} yellow, {seen['red']} red)")
    # Which churns were the surprises: the ones without a signal in the data, or missed.
    def before(c):
        return color_on(last_before(c["churn_date"], 1) or first, c["account_id"])

    for label, group in (("with leading signals", [c for c in churn if c["signalled"] == "true"]),
                         ("without a signal in the data (budget cut, acquisition)",
                          [c for c in churn if c["signalled"] == "false"])):
        if not group:
            continue
        seen = {"green": 0, "yellow": 0, "red": 0, None: 0}
        for c in group:
            seen[before(c)] += 1
        print(f"  {len(group)} churns {label}: the day before, {seen['red']} red, "
              f"{seen['yellow']} yellow, {seen['green']} green")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--progress")
    ap.add_argument("--day", type=int, default=0)
    ap.add_argument("--since", type=int, default=0)
    ap.add_argument("--of", type=int, default=0)
    ap.add_argument("--elapsed", default="")
    ap.add_argument("--db")
    ap.add_argument("--reports")
    ap.add_argument("--data")
    ap.add_argument("--cscore")
    ap.add_argument("--config", default="examples/demo/config")
    ap.add_argument("--min-arr", type=float, default=100_000)
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    if args.progress:
        progress(args)
    else:
        summary(args)


if __name__ == "__main__":
    main()
