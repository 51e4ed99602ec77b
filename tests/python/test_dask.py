"""A scorecard mapped over dask partitions on a 2-worker LocalCluster gives the same rows as
scoring in one process; the Spark-shaped function keeps ids as a column."""
import numpy as np
import pandas as pd
import pytest

import cscore

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytestmark = [pytest.mark.skipif(not hasattr(cscore, "Scorecard"), reason="health not built"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

import cscore.dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402

CARD = {"name": "health", "measures": [
    {"name": "logins", "metric": "logins_30d", "weight": 2, "ramp": {"from": 0, "to": 40}},
    {"name": "tickets", "metric": "open_tickets", "inverted_ramp": {"from": 0, "to": 10}},
    {"name": "plan", "metric": "plan", "categories": {"map": {"pro": 100, "basic": 40}}},
]}


def book(n=2000, seed=5):
    rng = np.random.default_rng(seed)
    logins = rng.uniform(0, 50, n)
    logins[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({
        "logins_30d": logins,
        "open_tickets": rng.integers(0, 12, n),
        "plan": rng.choice(["pro", "basic"], n),
    }, index=pd.Index([f"acct-{i:05d}" for i in range(n)], name="account_id"))


def test_partitioned_scores_equal_single_process_scores():
    card = cscore.Scorecard.from_dict(CARD)
    df = book()
    expected = card.score(df)
    ddf = dd.from_pandas(df, npartitions=6)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        got = cscore.dask.map_partitions(ddf, card).compute()
    got = pd.DataFrame(got)
    pd.testing.assert_frame_equal(got.loc[expected.index], pd.DataFrame(expected),
                                  check_categorical=False)


def test_spark_shaped_function_keeps_ids_as_a_column():
    card = cscore.Scorecard.from_dict(CARD)
    df = book(50).reset_index()
    fn = cscore.dask.partition_function(card, id_column="account_id")
    parts = [fn(p) for p in np.array_split(df, 3)]
    out = pd.concat(parts, ignore_index=True)
    assert list(out.columns[:2]) == ["account_id", "score"]
    expected = card.score(df, id_column="account_id")
    np.testing.assert_allclose(out["score"], expected["score"].to_numpy())
    with pytest.raises(AttributeError):
        cscore.dask.partition_function(card, method="nope")


RULES = """\
rules:
  - name: low_logins
    when: "logins_30d < 10.0 && plan == 'pro'"
    actions:
      - open_cta: {type: Risk, reason: Low usage, domain: Habit, priority: high}
  - name: tickets
    threshold: {column: open_tickets, compare: ">=", value: 10}
    actions:
      - open_cta: {type: Risk, reason: Tickets, domain: Support}
      - tag: noisy
"""


@pytest.mark.skipif(not hasattr(cscore, "RuleSet"), reason="rules not built")
def test_partitioned_rule_intents_equal_single_process_intents():
    rules = cscore.RuleSet.from_yaml(RULES, source="rules.yaml")
    df = book()
    key = ["account_id", "rule", "action"]
    expected = rules.intents(df, as_of="2024-03-04").drop(columns="row").reset_index()
    ddf = dd.from_pandas(df, npartitions=5)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        got = cscore.dask.map_partitions(ddf, rules, method="intents",
                                         as_of="2024-03-04").compute()
    got = got.drop(columns="row").reset_index()
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True),
                                  expected.sort_values(key, ignore_index=True))
