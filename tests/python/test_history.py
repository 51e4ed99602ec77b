"""Metric history: windowed aggregates over accounts x days matrices."""
import numpy as np
import pandas as pd
import pytest

import cscore


def test_window_aggregates_match_numpy():
    rng = np.random.default_rng(7)
    m = np.asfortranarray(rng.random((20, 10)))
    h = cscore.History([f"a{i}" for i in range(20)], days=10)
    h.add("logins", m)
    np.testing.assert_allclose(h.window("logins", "mean", 5), m[:, -5:].mean(axis=1))
    np.testing.assert_allclose(h.window("logins", "sum", 10), m.sum(axis=1))
    slope = np.polyfit(np.arange(4), m[:, -4:].T, 1)[0]
    np.testing.assert_allclose(h.window("logins", "trend", 4), slope, rtol=1e-9)
    s = h.window("logins", "max", 3)
    assert list(s.index[:2]) == ["a0", "a1"] and s.name == "logins_max_3d"
    assert np.shares_memory(h.matrix("logins").to_numpy(), m)


def test_c_order_and_dataframe_inputs_are_accepted():
    h = cscore.History(["x", "y"], days=3)
    h.add("nps", np.array([[1.0, 2.0, 3.0], [4.0, np.nan, 6.0]]))
    assert h.window("nps", "last", 1).tolist() == [3.0, 6.0]
    assert h.window("nps", "mean", 3).tolist() == [2.0, 5.0]
    h.add("tickets", pd.DataFrame([[0, 0, 1], [5, 5, 5]], index=["y", "x"]))
    assert h.window("tickets", "sum", 3).tolist() == [15.0, 1.0]  # reindexed to x, y
    assert h.metrics == ["nps", "tickets"]


def test_from_long_pivots_days_and_labels_them():
    long = pd.DataFrame({
        "account": ["a", "a", "b", "b"],
        "date": ["2024-03-01", "2024-03-03", "2024-03-02", "2024-03-03"],
        "logins": [1.0, 3.0, 10.0, 20.0],
    })
    h = cscore.History.from_long(long, account="account", date="date", metrics=["logins"],
                                 as_of="2024-03-03", days=3)
    acc = h.account("a")
    assert acc.index[-1] == pd.Timestamp("2024-03-03")
    assert acc["logins"].tolist()[0] == 1.0 and np.isnan(acc["logins"].tolist()[1])
    assert h.window("logins", "pct_change", 1)["b"] == pytest.approx(100.0)


def test_errors_carry_the_library_message():
    h = cscore.History(["x"], days=3)
    with pytest.raises(ValueError, match="expected 1 accounts x 3 days"):
        h.add("m", np.zeros((2, 3)))
    h.add("m", np.zeros((1, 3)))
    with pytest.raises(cscore.AlreadyExistsError, match="metric 'm' is already in the history"):
        h.add("m", np.zeros((1, 3)))
    with pytest.raises(cscore.InvalidArgumentError, match="unknown window aggregate 'median'"):
        h.window("m", "median", 2)
    with pytest.raises(cscore.InvalidArgumentError):
        h.window("m", "mean", 4)
    with pytest.raises(cscore.NotFoundError):
        h.window("missing", "mean", 2)
