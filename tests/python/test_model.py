"""Logistic churn model, backtest, splits and learned weights through the bindings."""
import pickle

import numpy as np
import pandas as pd
import pytest

import cscore

pytestmark = pytest.mark.skipif(not hasattr(cscore, "LogisticModel"), reason="health not built")


def synthetic(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n)) > 0
    return x, y


def test_array_fit_matches_the_closed_form_optimum_and_both_orders_agree():
    x, y = synthetic()
    m = cscore.LogisticModel(C=0.5).fit(np.asfortranarray(x), y)
    # Gradient of sklearn's objective vanishes at the optimum.
    p = m.predict_proba(x)[:, 1]
    grad = x.T @ (p - y) + m.coef_[0] / 0.5
    assert np.abs(grad).max() < 1e-6
    assert abs((p - y).sum()) < 1e-6
    c = cscore.LogisticModel(C=0.5).fit(np.ascontiguousarray(x), y.astype(int))
    np.testing.assert_allclose(c.coef_, m.coef_, rtol=1e-12)
    assert m.predict(x).shape == (400,) and 0.6 < m.score(x, y) <= 1.0
    np.testing.assert_allclose(m.decision_function(x), x @ m.coef_[0] + m.intercept_[0])


def test_frame_fit_encodes_categoricals_and_scores_by_account():
    df = pd.DataFrame({
        "tenure": [1, 30, 2, 40, 3, 50, 5, 45],
        "plan": ["basic", "pro", "basic", "pro", "basic", "pro", "pro", "basic"],
        "Churn": ["Yes", "No", "Yes", "No", "Yes", "No", "No", "Yes"],
    }, index=[f"a{i}" for i in range(8)])
    m = cscore.LogisticModel(C=1.0).fit(df, "Churn", positive="Yes")
    assert list(m.feature_names_in_) == ["tenure", "plan=basic", "plan=pro"]
    p = m.churn_probability(df)
    assert list(p.index) == list(df.index)
    assert p["a0"] > p["a1"]
    proba = m.predict_proba(df)
    assert list(proba.columns) == [0, 1]
    np.testing.assert_allclose(proba[1], p)
    # The same fit from an aligned outcome array.
    m2 = cscore.LogisticModel(C=1.0).fit(df.drop(columns="Churn"), df["Churn"] == "Yes")
    np.testing.assert_allclose(m2.churn_probability(df.drop(columns="Churn")), p, rtol=1e-9)
    # JSON and pickle carry the encoding.
    again = cscore.LogisticModel.from_json(m.to_json())
    np.testing.assert_allclose(again.churn_probability(df), p)
    np.testing.assert_allclose(pickle.loads(pickle.dumps(m)).churn_probability(df), p)
    assert "plan=pro" in m._repr_html_()
    assert list(m.transform(df).columns) == list(m.feature_names_in_)


def test_model_errors_carry_the_library_message():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "Churn": ["Yes", "No", "Yes", "No"]},
                      index=["a", "b", "c", "d"])
    with pytest.raises(cscore.InvalidArgumentError) as err:
        cscore.LogisticModel().fit(df, "Churn", positive="Yes")
    assert "'b'" in str(err.value) and "x" in str(err.value)
    m = cscore.LogisticModel(missing="impute_mean").fit(df, "Churn", positive="Yes")
    assert len(m.churn_probability(df)) == 4
    with pytest.raises(cscore.Error):
        cscore.LogisticModel(C=-1).fit(np.zeros((4, 1)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="not fitted"):
        cscore.LogisticModel().predict_proba(np.zeros((1, 1)))
    with pytest.raises(ValueError):
        cscore.LogisticModel().fit(np.zeros((4, 1)), [0, 1, 0])
    with pytest.raises(cscore.NotFoundError):
        cscore.LogisticModel().fit(df, "Missing", positive="Yes")


def test_sklearn_protocol():
    m = cscore.LogisticModel(C=2.0, max_iter=50)
    assert m.get_params()["C"] == 2.0
    assert m.set_params(C=3.0).C == 3.0
    with pytest.raises(ValueError):
        m.set_params(alpha=1)


def test_backtest_figures():
    p = pd.Series([0.9, 0.8, 0.1, 0.3, 0.05, 0.7], index=list("abcdef"))
    y = [1, 1, 0, 0, 0, 1]
    r = cscore.backtest(p, y, green_below=0.2)
    assert r.accounts == 6 and r.churned == 3 and r.auc == pytest.approx(1.0)
    assert r.surprise_rate == 0.0
    r2 = cscore.backtest(p, y, green=[1, 0, 0, 0, 0, 0])
    assert r2.green_churned == 1 and r2.surprise_rate == pytest.approx(1 / 3)
    assert r.calibration["count"].sum() == 6
    assert "auc" in r._repr_html_() and r.summary()["auc"] == pytest.approx(1.0)
    axes = r.plot()
    assert len(axes) == 2
    with pytest.raises(cscore.InvalidArgumentError):
        cscore.backtest([0.5, 1.5], [0, 1])
    with pytest.raises(cscore.InvalidArgumentError):
        cscore.backtest([0.5, 0.2], [0, 0])


def test_split_weights_and_target():
    y = np.array([1] * 20 + [0] * 80)
    train, test = cscore.stratified_split(y, test_size=0.25, seed=7)
    assert len(test) == 25 and y[test].sum() == 5
    assert sorted(np.r_[train, test].tolist()) == list(range(100))
    again = cscore.stratified_split(y, test_size=0.25, seed=7)
    np.testing.assert_array_equal(again[1], test)
    rng = np.random.default_rng(1)
    sub = pd.DataFrame({"adoption": rng.uniform(0, 100, 300), "noise": rng.uniform(0, 100, 300)})
    churned = rng.random(300) < 1 / (1 + np.exp((sub["adoption"] - 50) / 10))
    w = cscore.fit_scorecard_weights(sub, churned)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all() and w["adoption"] > w["noise"]
    t = cscore.encode_target(pd.DataFrame({"Churn": ["Yes", "No"]}, index=["a", "b"]), "Churn",
                             "Yes")
    assert t.tolist() == [1, 0]


def test_telco_fit_reaches_the_documented_auc(telco_path):
    df = pd.read_csv(telco_path)
    y = (df["Churn"] == "Yes").to_numpy()
    train, test = cscore.stratified_split(y, test_size=0.2, seed=42)
    m = cscore.LogisticModel(C=1.0).fit(df.iloc[train], "Churn", positive="Yes")
    r = cscore.backtest(m.churn_probability(df.iloc[test]), y[test])
    assert 0.82 < r.auc < 0.88
