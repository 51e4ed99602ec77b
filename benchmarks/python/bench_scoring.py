#!/usr/bin/env python3
"""Scoring 1M accounts x 32 measures through the Python bindings, against the same call in
C++ alone and the same scorecard written by hand in numpy, all measured in this run.

    PYTHONPATH=build/release/python /usr/bin/python3 benchmarks/python/bench_scoring.py
    ... --accounts 100000 --repeats 3     # smaller / quicker
    ... --json out.json                   # Google Benchmark-shaped JSON for scripts/bench

Figures (best of --repeats interleaved rounds; one thread, then the core's 2 threads):
  cpp_ms       Scorecard scoring in C++ only (the binding's native call, no result to Python)
  bindings_ms  Scorecard.score(frame) -> DataFrame indexed by account id
  numpy_ms     the same weighted-ramp scorecard with renormalised missing data in numpy
  overhead     bindings / cpp - 1            (target < 5%)
  speedup      numpy / bindings              (target >= 10x)
"""
import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

import cscore

MEASURES = 32


def make_book(n, seed=1):
    rng = np.random.default_rng(seed)
    data = {}
    for j in range(MEASURES):
        col = rng.uniform(0, 100, n)
        col[rng.random(n) < 0.02] = np.nan  # 2% missing per measure
        data[f"m{j:02d}"] = col
    ids = pd.Index(np.char.add("acct-", np.arange(n).astype(str)).astype(object),
                   name="account_id")
    return pd.DataFrame(data, index=ids)


def definition():
    rng = np.random.default_rng(2)
    measures = []
    for j in range(MEASURES):
        lo = float(rng.uniform(0, 30))
        hi = float(lo + rng.uniform(20, 70))
        kind = "ramp" if j % 4 else "inverted_ramp"
        measures.append({"name": f"m{j:02d}", "metric": f"m{j:02d}",
                         "weight": float(rng.integers(1, 10)), kind: {"from": lo, "to": hi}})
    return {"name": "bench", "measures": measures}


def numpy_score(df, spec):
    """The scorecard by hand: ramps, inverted ramps, weights renormalised over present
    measures, then the red / yellow / green scheme (upper bound included)."""
    num = np.zeros(len(df))
    den = np.zeros(len(df))
    for m in spec["measures"]:
        x = df[m["metric"]].to_numpy()
        kind = "ramp" if "ramp" in m else "inverted_ramp"
        lo, hi = m[kind]["from"], m[kind]["to"]
        sub = np.clip((x - lo) / (hi - lo), 0.0, 1.0) * 100.0
        if kind == "inverted_ramp":
            sub = 100.0 - sub
        present = ~np.isnan(x)
        num += np.where(present, sub * m["weight"], 0.0)
        den += present * m["weight"]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = num / den
    rng = np.where(score <= 50, 0, np.where(score <= 75, 1, 2))
    rng = np.where(np.isnan(score), -1, rng)
    label = pd.Categorical.from_codes(rng, categories=["Poor", "Average", "Good"])
    return pd.DataFrame({"score": score, "label": label}, index=df.index)


def best_ms(fns, repeats):
    """Best time of each function over `repeats` rounds, the functions interleaved within a
    round so that load on the machine affects them alike."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[i].append((time.perf_counter() - t0) * 1e3)
    return [min(t) for t in times]


def google_benchmark_json(figures, repeats):
    """The figures as Google Benchmark's JSON, so that headlines.json can name them like any
    other benchmark (BM_PyScore/<variant>, times in ms)."""
    n = figures["accounts"]
    rows = [("cpp", figures["cpp_ms"]), ("bindings", figures["bindings_ms"]),
            ("numpy", figures["numpy_ms"]), ("cpp/threads:2", figures["cpp_2threads_ms"]),
            ("bindings/threads:2", figures["bindings_2threads_ms"])]
    benchmarks = [{
        "name": f"BM_PyScore/{name}", "run_name": f"BM_PyScore/{name}", "run_type": "iteration",
        "repetitions": repeats, "iterations": 1, "real_time": ms, "cpu_time": ms,
        "time_unit": "ms", "items_per_second": n / (ms / 1e3),
    } for name, ms in rows]
    return {"context": {"executable": "benchmarks/python/bench_scoring.py",
                        "accounts": n, "measures": figures["measures"]},
            "benchmarks": benchmarks, "figures": figures}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", nargs="?", const="-", metavar="PATH",
                    help="write the figures as Google Benchmark-shaped JSON to PATH "
                         "(stdout without PATH), as benchmarks/summarize.py reads it")
    args = ap.parse_args(argv)

    df = make_book(args.accounts)
    spec = definition()
    card = cscore.Scorecard.from_dict(spec)
    t0 = time.perf_counter()
    frame = cscore.Frame(df)  # zero-copy views of the 32 float64 columns
    frame_ms = (time.perf_counter() - t0) * 1e3

    ours = card.score(frame, subscores=False)
    ref = numpy_score(df, spec)
    np.testing.assert_allclose(ours["score"].to_numpy(), ref["score"].to_numpy(), rtol=1e-9)
    assert (ours["label"].astype(str) == ref["label"].astype(str)).all()

    native = card._native
    cpp_ms, bindings_ms, numpy_ms, cpp2_ms, bindings2_ms = best_ms([
        lambda: native.score_only(frame._native),
        lambda: card.score(frame, subscores=False),
        lambda: numpy_score(df, spec),
        lambda: native.score_only(frame._native, threads=2),
        lambda: card.score(frame, subscores=False, threads=2),
    ], args.repeats)

    figures = {
        "accounts": args.accounts, "measures": MEASURES, "frame_build_ms": frame_ms,
        "cpp_ms": cpp_ms, "bindings_ms": bindings_ms, "numpy_ms": numpy_ms,
        "overhead": bindings_ms / cpp_ms - 1.0, "speedup_vs_numpy": numpy_ms / bindings_ms,
        "cpp_2threads_ms": cpp2_ms, "bindings_2threads_ms": bindings2_ms,
        "overhead_2threads": bindings2_ms / cpp2_ms - 1.0,
        "speedup_vs_numpy_2threads": numpy_ms / bindings2_ms,
    }
    if args.json:
        doc = google_benchmark_json(figures, args.repeats)
        if args.json == "-":
            print(json.dumps(doc, indent=1))
        else:
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=1)
    if args.json != "-":
        print(f"{args.accounts} accounts x {MEASURES} measures, best of {args.repeats}")
        print(f"  frame from DataFrame  {frame_ms:9.1f} ms (once; columns viewed, ids copied)")
        print(f"  C++ scoring only      {cpp_ms:9.1f} ms")
        print(f"  bindings -> DataFrame {bindings_ms:9.1f} ms  overhead "
              f"{100 * figures['overhead']:+.1f}% (target < 5%)")
        print(f"  numpy by hand         {numpy_ms:9.1f} ms  bindings are "
              f"{figures['speedup_vs_numpy']:.1f}x faster (target >= 10x)")
        print(f"  with 2 threads: C++ {cpp2_ms:.1f} ms, bindings {bindings2_ms:.1f} ms "
              f"(overhead {100 * figures['overhead_2threads']:+.1f}%, "
              f"{figures['speedup_vs_numpy_2threads']:.1f}x numpy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
