"""The CTA store and lifecycles from Python: every call, its errors, the audit log."""
import pickle

import numpy as np
import pandas as pd
import pytest

import cscore
from cscore.display import PALETTE

pytestmark = pytest.mark.skipif(not hasattr(cscore, "CtaStore"), reason="cta module not built")

T0 = "2024-03-01"


@pytest.fixture
def store():
    return cscore.CtaStore(playbooks={"recovery": [
        {"title": "Call the champion", "due_in_days": 2},
        {"title": "Exec sponsor email", "due_in_days": 5, "owner_role": "team_lead"}]})


def test_default_lifecycle_is_described():
    lc = cscore.Lifecycle.default()
    assert lc.initial == "new"
    assert "start" in lc.events and lc.timed_events["due_breach"] == "breach"
    st = lc.statuses.set_index("status")["category"]
    assert st["closed_lost"] == "closed_lost" and st["new"] == "open"
    tr = lc.transitions()
    start = tr[(tr["from"] == "new") & (tr["event"] == "start")].iloc[0]
    assert start["to"] == "work_in_progress" and "owner" in start["who"]
    reopen = tr[tr["event"] == "reopen"].iloc[0]
    assert reopen["reopen_within"] == pd.Timedelta(days=30)
    again = cscore.Lifecycle.from_yaml(cscore.Lifecycle.default_yaml(), source="default.yaml")
    assert again.events == lc.events
    assert pickle.loads(pickle.dumps(again)).events == lc.events
    assert "closed_success" in lc._repr_html_()


def test_lifecycle_errors_point_into_the_yaml(tmp_path):
    bad = tmp_path / "lc.yaml"
    bad.write_text("name: x\ninitial: nowhere\nstatuses:\n  - {name: new, category: open}\n"
                   "events: [go]\ntransitions:\n  - {event: go, from: new, to: new, who: [owner]}\n")
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Lifecycle.load(bad)
    assert str(err.value).startswith(f"{bad}:")
    with pytest.raises(cscore.InvalidArgumentError) as err2:
        cscore.Lifecycle.from_dict({"name": "x", "initial": "nowhere",
                                    "statuses": [{"name": "new", "category": "open"}],
                                    "events": ["go"],
                                    "transitions": [{"event": "go", "from": "new", "to": "new",
                                                     "who": ["owner"]}]})
    assert str(err2.value).startswith("<dict>:")


def test_open_fire_close_and_the_table(store):
    cid = store.open("acme", type="Risk", reason="Detractor", domain="Sentiment",
                     priority="high", owner="ann", due="2024-03-08", playbook="recovery", at=T0)
    assert cid == 0 and len(store) == 1
    assert store.find_open("acme", "Risk", "Detractor") == 0
    assert store.find_open("acme", "Risk", "Other") is None
    store.fire(cid, "start", by="ann", role="csm", at="2024-03-02")
    store.update(cid, priority="urgent", by="ann", at="2024-03-02")
    store.set_task_done(cid, 0, by="ann", at="2024-03-03")
    store.add_comment(cid, "called, no answer", by="ann", at="2024-03-03")
    t = store.to_pandas()
    row = t.loc[0]
    assert row["status"] == "work_in_progress" and row["category"] == "open"
    assert row["priority"] == 0 and row["priority_label"] == "urgent"
    assert row["domain"] == "sentiment" and row["owner"] == "ann" and not row["manual"]
    assert row["opened"] == pd.Timestamp(T0) and row["due"] == pd.Timestamp("2024-03-08")
    assert row["started"] == pd.Timestamp("2024-03-02") and pd.isna(row["closed"])
    assert row["tasks"] == 2 and row["tasks_done"] == 1
    tasks = store.tasks(cid)
    assert tasks["title"].tolist() == ["Call the champion", "Exec sponsor email"]
    assert tasks["done"].tolist() == [True, False]
    assert tasks["due"][1] == pd.Timestamp("2024-03-06")
    assert store.comments()["text"].tolist() == ["called, no answer"]
    store.close(cid, "closed_success", by="ann", at="2024-03-04", reason="renewed")
    assert store.to_pandas().loc[0, "category"] == "closed_success"
    assert store.open_of_account("acme") == []
    assert store.to_pandas(open_only=True).empty


def test_rejected_calls_raise_and_change_nothing(store):
    cid = store.open("acme", reason="Detractor", domain="sentiment", owner="ann", at=T0)
    with pytest.raises(cscore.AlreadyExistsError):
        store.open("acme", reason="Detractor", domain="sentiment", at=T0)
    before = store.audit_records()
    with pytest.raises(cscore.PermissionDeniedError) as err:
        store.fire(cid, "start", by="bob", role="csm", at=T0)
    assert "bob" in str(err.value) and "start" in str(err.value)
    with pytest.raises(cscore.InvalidArgumentError):
        store.fire(cid, "no_such_event", by="ann", at=T0)
    with pytest.raises(cscore.NotFoundError):
        store.fire(7, "start", by="ann", at=T0)
    with pytest.raises(cscore.InvalidArgumentError, match="unknown role"):
        store.fire(cid, "start", by="ann", role="boss", at=T0)
    with pytest.raises(cscore.InvalidArgumentError, match="unknown risk domain"):
        store.open("acme", reason="x", domain="weather", at=T0)
    with pytest.raises(cscore.InvalidArgumentError, match="priority"):
        store.open("acme", reason="x", domain="habit", priority="whenever", at=T0)
    np.testing.assert_array_equal(store.audit_records(), before)
    assert store.to_pandas().loc[cid, "status"] == "new"


def test_flag_snooze_timed_events_and_batches(store):
    a = store.open("acme", reason="r1", domain="habit", owner="ann", due="2024-03-05", at=T0)
    b = store.open("globex", reason="r2", domain="support", owner="ann", at=T0,
                   by="ann", role="csm")
    store.fire(a, "flag", by="ann", at=T0)
    assert store.flagged() == [a]
    assert store.open_of_domain("Habit") == [a]
    store.fire(b, "snooze", by="ann", at=T0, until="2024-03-03", reason="holiday")
    t = store.to_pandas()
    assert t.loc[b, "snoozed"] and t.loc[b, "snooze_reason"] == "holiday" and t.loc[b, "manual"]
    assert store.fire_timed_events("2024-03-06") == {"woken": 1, "breached": 1}
    assert store.fire_timed_events("2024-03-06") == {"woken": 0, "breached": 0}
    t = store.to_pandas()
    assert t.loc[a, "breached"] and not t.loc[b, "snoozed"]
    applied, rejected = store.fire_batch([a, b, 99], "close_no_action", by="rules", at="2024-03-07")
    assert applied == 2 and len(rejected) == 1 and rejected[0][0] == 2


def test_audit_log_reads_and_replays(store):
    a = store.open("acme", reason="r1", domain="habit", owner="ann", at=T0)
    store.fire(a, "start", by="ann", at="2024-03-02")
    store.add_comment(a, "hello", by="ann", at="2024-03-02")
    log = store.audit()
    assert log["kind"].tolist() == ["open", "transition", "comment"]
    assert log.loc[1, "event"] == "start" and log.loc[1, "from_status"] == "new"
    assert log.loc[1, "to_status"] == "work_in_progress" and log.loc[1, "actor"] == "ann"
    assert log.loc[2, "text"] == "hello" and log.loc[0, "text"] == "r1"
    recs = store.audit_records()
    assert recs.dtype == cscore.cta.AUDIT_DTYPE and len(recs) == 3
    again = cscore.CtaStore.replay(recs, store.strings(), playbooks={"recovery": []})
    pd.testing.assert_frame_equal(again.to_pandas(), store.to_pandas())
    broken = recs.copy()
    broken["cta"][1] = 5
    with pytest.raises(cscore.Error):
        cscore.CtaStore.replay(broken, store.strings())
    assert store.bytes_used > 0


def test_cta_list_renders_colored_and_ages(store):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    a = store.open("acme", reason="r1", domain="habit", priority="urgent", at="2024-01-01")
    store.open("globex", reason="r2", domain="support", priority="low", at="2024-02-28")
    store.fire(a, "flag", by="admin", role="admin", at="2024-03-01")
    html = store.to_pandas()._repr_html_()
    assert PALETTE["red"] in html and PALETTE["green"] in html and PALETTE["blue"] in html
    assert "CTAs (2, 2 open)" in html
    assert store._repr_html_() == html
    ax = store.to_pandas().plot_aging("2024-03-01")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["low", "urgent"]
    plt.close("all")
