"""Health scorecards from Python: YAML / dicts, scoring by account, explanations, errors."""
import pickle
import subprocess

import numpy as np
import pandas as pd
import pytest

import cscore

pytestmark = pytest.mark.skipif(not hasattr(cscore, "Scorecard"), reason="health not built")

CARD = {"name": "health", "measures": [
    {"name": "logins", "metric": "logins_30d", "weight": 2, "ramp": {"from": 0, "to": 40}},
    {"name": "tickets", "metric": "open_tickets", "inverted_ramp": {"from": 0, "to": 10}},
]}


def accounts():
    return pd.DataFrame({"logins_30d": [0.0, 20, 40, np.nan], "open_tickets": [0, 5, 10, 2],
                         "segment": ["smb", "ent", "ent", "smb"]},
                        index=pd.Index(list("abcd"), name="account_id"))


def test_weighted_scores_labels_and_subscores_by_account():
    card = cscore.Scorecard.from_dict(CARD)
    s = card.score(accounts())
    assert list(s.index) == list("abcd")
    # overall = sum(w m) / sum(w); a missing measure drops out (renormalize).
    np.testing.assert_allclose(s["score"], [100 / 3, 50, 200 / 3, 80])
    assert s["label"].tolist() == ["Poor", "Poor", "Average", "Good"]
    assert s["color"].tolist() == ["red", "red", "yellow", "green"]
    assert s["logins"].tolist()[:3] == [0, 50, 100] and np.isnan(s["logins"]["d"])
    assert card.range_of(50) == card.range_of(0) and card.range_of(75) != card.range_of(76)
    assert "background" in s._repr_html_() and "weight %" in card._repr_html_()
    assert card.measures["weight_pct"].round(1).tolist() == [66.7, 33.3]


def test_trend_and_explanation_against_a_previous_snapshot():
    card = cscore.Scorecard.from_dict(CARD)
    before = accounts().assign(logins_30d=[0.0, 40, 40, 1])
    s = card.score(accounts(), previous=before)
    assert s["trend"]["b"] == "down" and s["delta"]["b"] == pytest.approx(50 - 250 / 3)
    e = card.explain(accounts(), "b", previous=before)
    assert e.score == pytest.approx(50) and e.top_movers[0] == "logins"
    assert e.measures.loc["logins", "delta_points"] == pytest.approx(-100 / 3)
    assert "Account b" in e._repr_html_()
    with pytest.raises(KeyError):
        card.explain(accounts(), "zz")


def test_several_scorecards_chosen_by_criteria():
    ent = dict(CARD, name="enterprise", when={"segment": ["ent"]})
    ent["measures"] = [CARD["measures"][1]]
    card = cscore.Scorecard.from_dict({"scorecards": [ent, dict(CARD, default=True)]})
    s = card.score(accounts())
    assert s["scorecard"].tolist() == ["health", "enterprise", "enterprise", "health"]
    assert s["score"]["c"] == 0.0 and s["score"]["b"] == 50.0


def test_history_windowed_measure():
    card = cscore.Scorecard.from_dict({"name": "t", "measures": [
        {"name": "trend", "metric": "logins", "window": {"op": "trend", "days": 3},
         "ramp": {"from": -1, "to": 1}}]})
    h = cscore.History(list("abcd"), days=3)
    h.add("logins", np.array([[1.0, 2, 3], [3, 2, 1], [1, 1, 1], [0, 0, 0]]))
    s = card.score(accounts(), history=h)
    assert s["score"].tolist() == [100, 0, 50, 50]


def test_yaml_errors_match_the_cli_loader(tmp_path):
    bad = "scorecards:\n  - name: x\n    default: true\n    measures:\n" \
          "      - {name: a, metric: m, ramp: {from: 5, to: 1}}\n"
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.Scorecard.from_yaml(bad, source="sc.yaml")
    assert str(err.value) == "sc.yaml:5:36: a ramp needs from < to"
    path = tmp_path / "scorecards.yaml"
    path.write_text(bad)
    with pytest.raises(cscore.InvalidArgumentError) as err2:
        cscore.Scorecard.load(path)
    assert str(err2.value) == f"{path}:5:36: a ramp needs from < to"
    with pytest.raises(cscore.Error) as err3:
        cscore.Scorecard.from_dict(CARD).score(accounts().drop(columns="open_tickets"))
    assert "open_tickets" in str(err3.value)
    with pytest.raises(TypeError):
        cscore.Scorecard()


def test_pickles_by_definition():
    card = cscore.Scorecard.from_dict(CARD)
    again = pickle.loads(pickle.dumps(card))
    pd.testing.assert_frame_equal(again.score(accounts()), card.score(accounts()))
