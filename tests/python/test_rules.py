"""The rules engine from Python: YAML / dict definitions, evaluation to intents, applying
them to a CTA store, re-entry state, schedules and timed CTAs."""
import pickle

import numpy as np
import pandas as pd
import pytest

import cscore

pytestmark = pytest.mark.skipif(not hasattr(cscore, "RuleSet"), reason="rules module not built")

RULES = """\
rules:
  - name: detractor
    when: "nps < 0 && segment != 'tech-touch'"
    actions:
      - open_cta: {type: Risk, reason: Detractor, domain: Sentiment, priority: high,
                   owner_role: csm, due_in_days: 5}
  - name: ticket_flood
    threshold: {column: open_tickets, compare: ">=", value: 15}
    once_every_days: 7
    actions:
      - open_cta: {type: Risk, reason: Ticket flood, domain: Support, priority: urgent,
                   due_in_days: 2}
      - set_measure: {measure: support, value: 10, expires_in_days: 14}
      - tag: noisy
  - name: tickets_cleared
    threshold: {column: open_tickets, compare: "<", value: 3}
    actions:
      - close_cta: {type: Risk, reason: Ticket flood, status: closed_success}
"""
# A guard over the metric history: it compiles only when a history is given.
HISTORY_RULE = """\
  - name: falling_logins
    when: "trend('logins', 3) < 0.0"
    schedule: weekly on monday
    actions:
      - open_cta: {type: Risk, reason: Adoption drop, domain: Habit}
"""
ALL_RULES = RULES + HISTORY_RULE


@pytest.fixture
def accounts():
    return pd.DataFrame({
        "nps": np.array([-20, 40, -5, 10], dtype=np.int64),
        "open_tickets": np.array([20, 1, 16, 0], dtype=np.int64),
        "segment": ["high-touch", "high-touch", "tech-touch", "high-touch"],
        "csm": ["ann", "bob", "ann", "cy"],
    }, index=pd.Index(["a", "b", "c", "d"], name="account_id"))


@pytest.fixture
def history(accounts):
    h = cscore.History(accounts.index, days=3)
    h.add("logins", np.asfortranarray([[5.0, 4, 3], [1, 2, 3], [3, 3, 3], [9, 5, 1]]))
    return h


def test_definitions_load_and_describe(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(ALL_RULES)
    rules = cscore.RuleSet.load(path)
    assert len(rules) == 4
    df = rules.rules
    assert list(df.index) == ["detractor", "ticket_flood", "tickets_cleared", "falling_logins"]
    assert df.loc["falling_logins", "schedule"] == "weekly on monday"
    assert df.loc["ticket_flood", "threshold"] and df.loc["ticket_flood", "once_every_days"] == 7
    assert df.loc["detractor", "location"].startswith(f"{path}:3:")
    assert "detractor" in rules._repr_html_()


def test_evaluate_apply_and_rerun(accounts, history):
    rules = cscore.RuleSet.from_yaml(ALL_RULES, source="rules.yaml")
    store = cscore.CtaStore()
    state = cscore.RuleState()
    run = rules.evaluate(accounts, as_of="2024-03-04", history=history, store=store, state=state)
    it = run.intents
    assert it.index.name == "account_id"
    opens = it[it["kind"] == "open"]
    assert sorted(zip(opens.index, opens["rule"])) == [
        ("a", "detractor"), ("a", "falling_logins"), ("a", "ticket_flood"),
        ("c", "ticket_flood"), ("d", "falling_logins")]
    flood = opens[(opens["rule"] == "ticket_flood")].loc["a"]
    assert flood["priority"] == 0 and flood["due"] == pd.Timestamp("2024-03-06")
    assert set(it["kind"]) >= {"open", "set_measure", "tag"}
    assert run.stats["rules_run"] == 4 and run.stats["intents"] == len(it) == len(run)
    report = run.apply(store, state=state)
    assert report["opened"] == 5 and not report["rejected"]
    assert len(report["passed_on"]) == 4  # set_measure + tag for a and c
    ctas = store.to_pandas()
    assert sorted(ctas["reason"]) == ["Adoption drop", "Adoption drop", "Detractor",
                                      "Ticket flood", "Ticket flood"]
    assert set(ctas["source"]) == {"detractor", "ticket_flood", "falling_logins"}
    assert state.last_fired("ticket_flood", "a") == pd.Timestamp("2024-03-04")
    assert len(state.to_pandas()) == len(run.fired)
    # The same day again: dedup and re-entry open nothing new.
    again = rules.run(accounts, as_of="2024-03-04", history=history, store=store, state=state)
    assert again["opened"] == 0 and len(store) == 5


def test_close_intents_close_through_the_store(accounts):
    rules = cscore.RuleSet.from_yaml(RULES)
    store = cscore.CtaStore()
    state = cscore.RuleState()
    rules.run(accounts, as_of="2024-03-05", store=store, state=state)
    fixed = accounts.assign(open_tickets=np.array([0, 1, 16, 0], dtype=np.int64))
    run = rules.evaluate(fixed, as_of="2024-03-06", store=store, state=state)
    closes = run.intents[run.intents["kind"] == "close"]
    assert list(closes.index) == ["a"] and closes["close_status"].iloc[0] == "closed_success"
    assert closes["cta_id"].iloc[0] == store.find_open("a", "Risk", "Ticket flood")
    assert run.apply(store, state=state)["closed"] == 1
    assert store.find_open("a", "Risk", "Ticket flood") is None


def test_owner_columns_assign_the_owner(accounts):
    rules = cscore.RuleSet.from_yaml(RULES)
    store = cscore.CtaStore()
    rules.run(accounts, as_of="2024-03-05", store=store, owner_columns={"csm": "csm"})
    t = store.to_pandas()
    assert t[t["reason"] == "Detractor"]["owner"].tolist() == ["ann"]


def test_compile_errors_carry_the_yaml_location(accounts, tmp_path):
    bad = RULES.replace("nps < 0", "nps < ")
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.RuleSet.from_yaml(bad, source="rules.yaml").evaluate(accounts, as_of="2024-03-04")
    assert str(err.value).startswith("rules.yaml:3:") and "detractor" in str(err.value)
    with pytest.raises(cscore.InvalidArgumentError, match="logins"):
        cscore.RuleSet.from_yaml(ALL_RULES).evaluate(accounts, as_of="2024-03-04")
    unknown = RULES.replace("open_tickets, compare", "tickets, compare", 1)
    with pytest.raises(cscore.InvalidArgumentError, match="tickets"):
        cscore.RuleSet.from_yaml(unknown).evaluate(accounts, as_of="2024-03-04")
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.RuleSet.from_dict({"rules": [{"name": "x", "when": "true",
                                             "actions": [{"explode": {}}]}]})
    assert str(err.value).startswith("<dict>:")
    with pytest.raises(cscore.InvalidArgumentError, match="2024-13-01"):
        cscore.RuleSet.from_yaml(RULES).evaluate(accounts, as_of="2024-13-01")


def test_schedules_and_priorities():
    assert cscore.rules.parse_schedule("weekly on Monday") == "weekly on monday"
    assert cscore.rules.schedule_runs_on("weekly on monday", "2024-03-04")
    assert not cscore.rules.schedule_runs_on("weekly on monday", "2024-03-05")
    with pytest.raises(cscore.InvalidArgumentError, match="fortnightly"):
        cscore.rules.parse_schedule("fortnightly")
    assert cscore.rules.parse_priority("urgent") == 0 and cscore.rules.parse_priority(7) == 7
    with pytest.raises(cscore.InvalidArgumentError):
        cscore.rules.parse_priority("soonish")


def test_rule_state_records_and_pickles(accounts):
    state = cscore.RuleState()
    state.record_fired("r", "a", "2024-03-01")
    state.record_close("a", "Risk", "x", "2024-03-02")
    assert state.last_fired("r", "a") == pd.Timestamp("2024-03-01")
    assert state.last_close("a", "Risk", "x") == pd.Timestamp("2024-03-02")
    assert state.last_fired("r", "zzz") is None
    rules = cscore.RuleSet.from_yaml(RULES, source="rules.yaml")
    again = pickle.loads(pickle.dumps(rules))
    pd.testing.assert_frame_equal(
        again.intents(accounts, as_of="2024-03-05"), rules.intents(accounts, as_of="2024-03-05"))


def test_timed_ctas_open_milestones_and_check_ins():
    accounts = pd.DataFrame({
        "onboarded_at": pd.to_datetime(["2024-02-01", "2024-01-01"]),
    }, index=pd.Index(["a", "b"], name="account_id"))
    timed = cscore.TimedCtas(
        milestones=[{"name": "onboarding", "start_column": "onboarded_at", "days": [30, 60],
                     "lead_days": 7, "cta": {"priority": "high"}}],
        check_ins={"cta": {"reason": "Exec check-in"}})
    sponsors = pd.DataFrame({"account_id": ["b"], "sponsor": ["ceo"], "every_months": [1]})
    store = cscore.CtaStore()
    state = cscore.RuleState()
    run = timed.evaluate(accounts, as_of="2024-03-01", sponsors=sponsors, store=store, state=state)
    it = run.intents
    assert ("a", "Onboarding day 30") in list(zip(it.index, it["reason"]))
    assert (it[it["source"] == "onboarding"]["priority"] == 1).all()
    check = it[it["source"] == "exec_checkin"]
    assert list(check.index) == ["b"] and check["owner"].iloc[0] == "ceo"
    opened, rejected = run.apply(store, state=state)
    assert opened == len(it) and not rejected
    rerun = timed.evaluate(accounts, as_of="2024-03-01", sponsors=sponsors, store=store,
                           state=state)
    assert len(rerun) == 0
    with pytest.raises(cscore.InvalidArgumentError, match="unknown key"):
        cscore.TimedCtas(milestones=[{"name": "x", "start_column": "onboarded_at", "dayz": [1]}])
    with pytest.raises(cscore.InvalidArgumentError, match="segment|timestamp|column"):
        cscore.TimedCtas(qbrs=[{"start_column": "segment"}]).evaluate(
            accounts.assign(segment="x"), as_of="2024-03-01")
    assert pickle.loads(pickle.dumps(timed)).evaluate(
        accounts, as_of="2024-03-01", sponsors=sponsors).intents.shape == it.shape
