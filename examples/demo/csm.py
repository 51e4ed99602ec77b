#!/usr/bin/python3
"""The demo's CSMs at work after a daily run: they flag the urgent risks of their larger accounts.

    csm.py --db var/demo.db --data var/demo/data --date 2026-06-03 --cscore build/bin/cscore \
           --config examples/demo/config [--min-arr 100000]

A flag is how a CSM asks for help, and what starts an escalation (escalation.yaml). Each
urgent Risk CTA that the day's run opened on an account of at least --min-arr ARR is flagged
by its owner at 10:00 UTC that day, through `cscore cta transition` (so the organisation
authorizes it and the audit log keeps it); the next run's escalation step routes it. The
CTAs opened that day are read from the store's audit log (read only). Prints one line.
"""

import argparse
import csv
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--cscore", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--min-arr", type=float, default=100_000)
    args = ap.parse_args()

    day = dt.date.fromisoformat(args.date)
    start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
    with open(os.path.join(args.data, f"accounts-{args.date}.csv"), encoding="utf-8") as f:
        arr = {r["account_id"]: float(r["arr"]) for r in csv.DictReader(f)}
    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    rows = db.execute("SELECT cta_id, account_id, reason, detail FROM audit "
                      "WHERE event = 'open' AND time = ? ORDER BY cta_id", (start,)).fetchall()
    db.close()
    flagged = []
    for cta, account, reason, detail in rows:
        d = json.loads(detail)
        if d.get("type") != "Risk" or d.get("priority") != 0 or arr.get(account, 0) < args.min_arr:
            continue
        owner = d.get("owner", "")
        cmd = [args.cscore, "cta", "transition", str(cta), "--db", args.db, "--config",
               args.config, "--event", "flag", "--actor", owner, "--reason",
               f"Need help: {reason.lower()}", "--at", f"{args.date}T10:00:00Z"]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"csm.py: {' '.join(cmd)}: {res.stderr.strip()}")
        flagged.append(f"{account} ({reason})")
    if flagged:
        print(f"  {args.date}: CSMs flagged {len(flagged)} for help: {', '.join(flagged[:3])}"
              + (" ..." if len(flagged) > 3 else ""))


if __name__ == "__main__":
    main()
