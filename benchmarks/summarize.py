#!/usr/bin/env python3
"""Builds the headline table of scripts/bench from Google Benchmark JSON files.

Each entry of headlines.json names a benchmark and a metric, and a baseline measured in the
same run; the ratio is value/baseline for rates and baseline/value for times. A figure
whose benchmark did not run is reported as missing.
"""
import argparse
import json
import os
import sys

TIME_METRICS = {"real_time", "cpu_time"}


def load_runs(directory):
    runs = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json") or name == "summary.json":
            continue
        with open(os.path.join(directory, name)) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError:
                continue
        binary = name[: -len(".json")]
        for b in data.get("benchmarks", []):
            # With repetitions, prefer the median aggregate.
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            key = b.get("run_name", b["name"]) if b.get("run_type") == "aggregate" else b["name"]
            runs[(binary, key)] = b
    return runs


def metric_value(bench, metric):
    if bench is None:
        return None
    value = bench.get(metric)
    return float(value) if value is not None else None


def summarize(headlines, runs):
    rows = []
    for h in headlines:
        binary = h["binary"]
        bench = runs.get((binary, h["benchmark"]))
        value = metric_value(bench, h["metric"])
        base = h.get("baseline") or {}
        base_bench = runs.get((base.get("binary", binary), base.get("benchmark")))
        base_value = metric_value(base_bench, base.get("metric", h["metric"]))
        ratio = None
        if value and base_value:
            timed = h["metric"] in TIME_METRICS
            ratio = base_value / value if timed else value / base_value
        scale = h.get("scale", 1.0)
        rows.append({
            "name": h["name"],
            "value": None if value is None else value * scale,
            "unit": h.get("unit", h["metric"]),
            "baseline": {"name": base.get("benchmark"),
                         "value": None if base_value is None else base_value * scale},
            "ratio": ratio,
            "target": h.get("target"),
        })
    return rows


def fmt(x):
    if x is None:
        return "missing"
    if abs(x) >= 1e4 or (abs(x) < 1e-2 and x != 0):
        return f"{x:.3g}"
    return f"{x:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--headlines", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.headlines) as f:
        headlines = json.load(f)
    rows = summarize(headlines, load_runs(args.dir))
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=2)
    print(f"{'figure':40} {'value':>12} {'unit':10} {'ratio':>9}  target")
    for r in rows:
        target = r["target"] or {}
        print(f"{r['name']:40} {fmt(r['value']):>12} {r['unit']:10} {fmt(r['ratio']):>9}  "
              f"{target.get('text', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
