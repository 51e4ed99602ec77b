"""The daily run from Python: same engine, same store, same messages as `cscore run`."""
import datetime as dt
import json
import subprocess
from pathlib import Path
import os

import numpy as np
import pandas as pd
import pytest

import cscore

pytestmark = pytest.mark.skipif(not hasattr(cscore, "Engine"), reason="engine not built")


def snapshot(logins):
    ids = [f"acc{i}" for i in range(len(logins))]
    return pd.DataFrame({"logins": np.asarray(logins, dtype=float),
                         "tickets": np.arange(len(logins), dtype=np.int64)},
                        index=pd.Index(ids, name="account_id"))


def test_run_ingests_and_reports(tmp_path):
    engine = cscore.Engine(tmp_path / "cs.db")
    report = engine.run(snapshot([3, 4]), as_of="2024-03-01")
    assert report.date == "2024-03-01"
    assert report.accounts == 2 and report.new_accounts == 2 and report.metrics == 2
    assert not report.from_store
    assert report.steps[0] == "ingest"
    assert set(report.health) == {"green", "yellow", "red", "unscored"}
    assert len(report.risk_red) == 8
    assert report.to_dict()["accounts"] == 2
    assert engine.store.accounts() == ["acc0", "acc1"]
    np.testing.assert_array_equal(engine.store.load_series("metric/logins", "2024-03-01"), [3, 4])
    assert engine.store.last_completed_day() == "2024-03-01"
    assert engine.report(dt.date(2024, 3, 1))["accounts"] == 2


def test_rerun_returns_the_stored_report(tmp_path):
    engine = cscore.Engine(tmp_path / "cs.db")
    engine.run(snapshot([3, 4]), as_of=dt.date(2024, 3, 1))
    again = engine.run(snapshot([9, 9, 9]), as_of=pd.Timestamp("2024-03-01"))
    assert again.from_store and again.accounts == 2
    assert cscore.RunReport.from_json(again.to_json()).accounts == 2


def test_history_comes_back_aligned_to_the_snapshot(tmp_path):
    engine = cscore.Engine(tmp_path / "cs.db")
    for day, logins in [("2024-03-01", [1, 2]), ("2024-03-02", [3, 6])]:
        engine.run(snapshot(logins), as_of=day)
    h = engine.load_history(snapshot([0, 0]), ["logins"], "2024-03-02", days=3)
    m = h.matrix("logins")
    assert np.isnan(m.iloc[0, 0])
    np.testing.assert_array_equal(m.iloc[:, 1:].to_numpy(), [[1, 3], [2, 6]])
    assert h.window("logins", "trend", 2).tolist() == [2.0, 4.0]


def test_progress_is_reported_and_its_errors_propagate(tmp_path):
    seen = []
    engine = cscore.Engine(tmp_path / "a.db", progress=lambda s, f: seen.append((s, f)))
    engine.run(snapshot([1]), as_of="2024-03-01")
    assert seen and all(0.0 <= f <= 1.0 for _, f in seen)

    def boom(step, fraction):
        raise RuntimeError("stop here")

    engine = cscore.Engine(tmp_path / "b.db", progress=boom)
    with pytest.raises(RuntimeError, match="stop here"):
        engine.run(snapshot([1]), as_of="2024-03-01")


def test_bad_input_raises_and_writes_nothing(tmp_path):
    engine = cscore.Engine(tmp_path / "cs.db")
    with pytest.raises(cscore.InvalidArgumentError) as err:
        engine.run(snapshot([1.0, np.inf]), as_of="2024-03-01")
    assert "acc1" in str(err.value) and "logins" in str(err.value)
    assert engine.store.last_started_day() is None
    with pytest.raises(cscore.InvalidArgumentError, match="2024-02-30"):
        engine.run(snapshot([1.0]), as_of="2024-02-30")
    with pytest.raises(TypeError):
        engine.run(snapshot([1.0]), as_of=20240301)


def test_read_snapshot_prefers_the_dated_file(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id,logins\na,1\n")
    (tmp_path / "accounts-2024-03-01.csv").write_text("account_id,logins\nb,2\nc,3\n")
    assert list(cscore.read_snapshot(tmp_path, "2024-03-01").index) == ["b", "c"]
    assert list(cscore.read_snapshot(tmp_path, "2024-03-02").index) == ["a"]
    with pytest.raises(cscore.Error):
        cscore.read_snapshot(tmp_path / "missing", "2024-03-01")


def cli_path():
    build = os.environ.get("CSCORE_BUILD_DIR")
    for base in [build] if build else []:
        for cand in (Path(base) / "bin" / "cscore", Path(base) / "src" / "cli" / "cscore"):
            if cand.exists():
                return cand
    return None


def test_config_errors_match_the_cli(tmp_path):
    (tmp_path / "good.yaml").write_text("scorecards: []\n")
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: [unclosed\n")
    errors = cscore.validate_config(tmp_path)
    assert len(errors) == 1 and errors[0].startswith(str(tmp_path / "bad.yaml") + ":")
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.check_config_file(tmp_path / "bad.yaml")
    assert str(err.value) == errors[0]
    cli = cli_path()
    if cli is not None:
        out = subprocess.run([str(cli), "validate", "--config", str(tmp_path)],
                             capture_output=True, text=True)
        assert out.returncode == 1
        assert out.stdout.splitlines() == errors


SCORECARDS = """\
scorecards:
  - name: health
    default: true
    measures:
      - {name: logins, metric: logins, ramp: {from: 0, to: 40}}
"""
RULES = """\
rules:
  - name: low_logins
    threshold: {column: logins, compare: "<", value: 5}
    actions:
      - open_cta: {type: Risk, reason: Low logins, domain: Habit, priority: high}
"""


def test_a_config_dir_drives_the_configured_steps(tmp_path):
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "scorecards.yaml").write_text(SCORECARDS)
    (cfg / "rules.yaml").write_text(RULES)
    assert cscore.validate_config(cfg) == []
    engine = cscore.Engine(tmp_path / "cs.db", config=cfg)
    assert engine.steps["health"] and engine.steps["rules"] and not engine.steps["escalation"]
    report = engine.run(snapshot([1.0, 50.0]), as_of="2024-03-01")
    assert "health" in report.steps and "rules" in report.steps
    assert report.health["red"] == 1 and report.new_red_accounts == ["acc0"]
    assert report.rules["matched"] == 1 and report.ctas["opened"] == 1 and report.ctas["open"] == 1
    assert report.risk_red_accounts == 0 and set(report.timed) == {"opened", "check_ins"}
    assert set(report.sponsors) == {"assigned", "unassigned", "changed"}
    audit = engine.audit()
    assert audit["account_id"].tolist() == ["acc0"] and audit["time"][0] == pd.Timestamp("2024-03-01")
    assert engine.audit(after_seq=int(audit["seq"].max())).empty
    store = engine.store
    assert store.schema_version >= 1
    store.integrity_check()
    assert store.series_days("metric/logins", "2024-02-01", "2024-03-05") == ["2024-03-01"]
    assert cscore._cscore.metric_columns(cscore.Frame(snapshot([1.0]))._native) == ["logins",
                                                                                   "tickets"]
    # A bad file in the config dir: the engine refuses it with the validate line.
    (cfg / "rules.yaml").write_text(RULES.replace("threshold:", "treshold:"))
    errors = cscore.validate_config(cfg)
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Engine(tmp_path / "other.db", config=cfg)
    assert str(err.value) == errors[0] and errors[0].startswith(str(cfg / "rules.yaml") + ":")
