"""The organisation, escalation policies and sponsors from Python (tests/python/data)."""
import pickle

import pandas as pd
import pytest

import cscore

pytestmark = pytest.mark.skipif(not hasattr(cscore, "Escalator"),
                                reason="escalation module not built")


@pytest.fixture(scope="module")
def config(repo_root):
    return repo_root / "tests" / "python" / "data"


@pytest.fixture(scope="module")
def esc(config):
    return cscore.Escalator.load(config / "organisation.yaml", config / "escalation.yaml")


def flagged(**kw):
    cta = {"id": 1, "account_id": "acme", "owner": "csm-1", "domain": "support",
           "arr": 100_000.0, "tier": "enterprise", "raised_at": "2024-03-01"}
    cta.update(kw)
    return cta


def test_organisation_answers_reporting_questions(esc):
    org = esc.organisation
    assert len(org) == org.people.shape[0] == 16
    assert org.is_above("vp-cs", "csm-1") and not org.is_above("csm-1", "vp-cs")
    assert not org.is_above("nobody", "csm-1")
    assert org.reporting_chain("csm-1") == ["csm-1", "lead-east", "vp-cs", "ceo"]
    assert org.manager("csm-1") == "lead-east" and org.manager("ceo") is None
    assert org.nearest_with_role("csm-1", "vp_cs") == "vp-cs"
    assert org.nearest_with_role("csm-1", "cro") is None
    assert org.first_with_role("cro") == "cro"
    assert "csm-1" in org.team_members("cs")
    assert org.teams.loc["support", "review_day"] == "wednesday"
    assert org.people.loc["csm-1", "depth"] == 3
    assert org.domain_owners["readiness"] == ["services", "cs_ops"]
    assert org.sponsor_pool["min_arr"] == 250000
    assert org.to_dot().startswith("digraph")
    with pytest.raises(cscore.NotFoundError, match="nobody"):
        org.reporting_chain("nobody")
    assert pickle.loads(pickle.dumps(org)).is_above("ceo", "csm-3")


def test_chain_accountable_and_dot(esc):
    chain = esc.chain(flagged(), at="2024-03-04")
    assert chain.attrs["policy_id"] == "flagged-cta" and chain.attrs["policy_version"] == 1
    first = chain.iloc[0]
    assert first["level"] == 1 and first["fired"]
    assert "person lead-east" in first["targets"] and "team support" in first["targets"]
    assert first["fire_at"] == pd.Timestamp("2024-03-01")
    # Level 2 needs a flag, level 3 an ARR above 500k: both skipped here.
    assert set(chain["level"]) == {1}
    assert esc.accountable(flagged(), at="2024-03-04") == chain.attrs["accountable"]
    assert esc.accountable(flagged(), at="2024-02-01") == ["person csm-1"]
    big = esc.chain(flagged(arr=900_000.0, renewal_at_risk=True), at="2024-03-20")
    assert list(big["level"].unique()) == [1, 2, 3]
    assert "digraph" in esc.path_dot(flagged(), at="2024-03-04")
    v2 = esc.chain(flagged(raised_at="2024-07-01"), at="2024-07-02")
    assert v2.attrs["policy_version"] == 2
    assert "Escalation of CTA 1" in chain._repr_html_()
    with pytest.raises(cscore.Error, match="nobody"):
        esc.chain(flagged(owner="nobody"), at="2024-03-04")


def test_due_is_idempotent_with_states_and_inboxes(esc):
    ctas = pd.DataFrame([flagged(id=1), flagged(id=2, owner="csm-3", domain="habit",
                                                acknowledged_at="2024-03-01 12:00")])
    due = esc.due(ctas, as_of="2024-03-04")
    ev = due.events
    assert ev["cta_id"].tolist() == [1, 2, 1] or set(ev["cta_id"]) == {1, 2}
    assert (ev["level"] >= 1).all() and ev["reason"].str.contains("flagged-cta").all()
    again = esc.due(ctas, as_of="2024-03-04", states=due.states)
    assert len(again) == 0
    # lead-east: CTA 1 as the owner's manager, CTA 2 through team cs (the habit domain's).
    assert sorted(esc.inbox(ctas, as_of="2024-03-04", person="lead-east")["cta_id"]) == [1, 2]
    assert esc.inbox(ctas, as_of="2024-03-04", team="support")["cta_id"].tolist() == [1]
    assert esc.inbox(ctas, as_of="2024-03-04", person="eng-1").empty
    with pytest.raises(ValueError, match="exactly one"):
        esc.inbox(ctas, as_of="2024-03-04")
    with pytest.raises(ValueError, match="raised_at"):
        esc.due([{"id": 3, "owner": "csm-1"}], as_of="2024-03-04")


def test_escalate_fires_into_the_store(esc):
    store = cscore.CtaStore(authority=esc.organisation)
    cid = store.open("acme", reason="Outage", domain="support", owner="csm-1", at="2024-03-01")
    store.fire(cid, "flag", by="csm-1", role="csm", at="2024-03-01")
    # The organisation decides who is above the owner: a VP of another line is not.
    with pytest.raises(cscore.PermissionDeniedError):
        store.fire(cid, "start", by="vp-eng", role="vp", at="2024-03-01")
    store.fire(cid, "start", by="lead-east", role="team_lead", at="2024-03-01")
    accounts = pd.DataFrame({"arr": [900_000.0], "tier": ["strategic"],
                             "renewal_at_risk": [True]}, index=pd.Index(["acme"]))
    inputs = esc.inputs(store, accounts=accounts)
    assert inputs.loc[cid, "arr"] == 900_000.0 and inputs.loc[cid, "renewal_at_risk"]
    one = esc.input_of(store, cid)
    assert one["owner"] == "csm-1" and one["raised_at"] == pd.Timestamp("2024-03-01")
    other = store.open("globex", reason="Quiet", domain="habit", owner="csm-2", at="2024-03-01")
    with pytest.raises(cscore.Error, match="flag"):
        esc.input_of(store, other)
    fired = esc.escalate(store, as_of="2024-03-20", accounts=accounts)
    assert fired.attrs["fired"] == len(fired) >= 3 and not fired.attrs["rejected"]
    log = store.audit()
    assert (log["event"] == "escalate").sum() == len(fired)
    again = esc.escalate(store, as_of="2024-03-20", accounts=accounts,
                         states=fired.attrs["states"])
    assert len(again) == 0


def test_config_errors_read_file_line_column(tmp_path, config):
    bad = tmp_path / "organisation.yaml"
    text = (config / "organisation.yaml").read_text().replace("manager: lead-east", "manager: ghost", 1)
    bad.write_text(text)
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Organisation.load(bad)
    assert str(err.value).startswith(f"{bad}:") and "ghost" in str(err.value)
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Escalator.from_yaml(cscore.Organisation.load(config / "organisation.yaml"),
                                   "policies:\n  - id: p\n    levels:\n      - targets: [{person: ghost}]\n",
                                   source="esc.yaml")
    assert str(err.value).startswith("esc.yaml:") and "ghost" in str(err.value)
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Organisation.from_dict({"people": [{"id": "a", "role": "csm", "manager": "a"}]})
    assert str(err.value).startswith("<dict>:")


def test_sponsor_assignment(esc):
    accounts = pd.DataFrame({
        "arr": [900_000.0, 400_000.0, 300_000.0, 10_000.0],
        "tier": ["strategic", "enterprise", "enterprise", "smb"],
        "current_sponsor": ["cro", None, None, None],
    }, index=pd.Index(["a", "b", "c", "d"], name="account_id"))
    plan = cscore.assign_sponsors(accounts, pool=esc)
    a = plan.assignments
    assert set(a.index) == {"a", "b", "c"} and a.loc["a", "sponsor"] == "cro" and a.loc["a", "kept"]
    assert a.loc["a", "cadence_months"] == 1 and a.loc["b", "cadence_months"] == 3
    assert plan.not_eligible == 1 and plan.unassigned == [] and plan.unassigned_reason == ""
    assert plan.load.sum() == 3 + 1 + 1
    assert sorted(plan.cadences()) == sorted((i, r.sponsor, r.cadence_months)
                                             for i, r in a.iterrows())
    fresh = accounts.drop(columns="current_sponsor")
    tight = cscore.assign_sponsors(fresh, pool={"sponsors": [("ceo", 0.0)], "min_arr": 1})
    assert set(tight.unassigned) == {"a", "b", "c"} and tight.unassigned_reason
    with pytest.raises(cscore.InvalidArgumentError, match="'cro' is not in the sponsor pool"):
        cscore.assign_sponsors(accounts, pool={"sponsors": [("ceo", 1.0)]})
    with pytest.raises(cscore.InvalidArgumentError):
        cscore.assign_sponsors(fresh, pool={"sponsors": [("ceo", -1.0)]})
    from cscore import escalation as e
    assert e.next_checkin("2024-01-31", 1, "2024-02-10") == pd.Timestamp("2024-02-29")
    assert e.quarterly_capacity(1.0) == 13
    assert e.load_cost(0, 13) == 0 and e.load_cost(13, 13) > e.load_cost(2, 13)
