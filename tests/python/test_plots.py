"""Plot helpers draw what they claim, and their curve maths agrees with scikit-learn."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.calibration import calibration_curve as sk_calibration  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

import cscore.plots as cp  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_roc_points_match_sklearn_auc_with_ties():
    rng = np.random.default_rng(3)
    y = rng.random(500) < 0.3
    score = np.round(rng.random(500) + y * 0.4, 1)  # rounded: many ties
    fpr, tpr, auc = cp.roc_points(y, score)
    assert auc == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert fpr[0] == 0 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)


def test_calibration_points_match_sklearn():
    rng = np.random.default_rng(4)
    p = rng.random(1000)
    y = rng.random(1000) < p
    mean_p, rate, count = cp.calibration_points(y, p, bins=5)
    sk_rate, sk_mean = sk_calibration(y, p, n_bins=5)
    np.testing.assert_allclose(mean_p, sk_mean)
    np.testing.assert_allclose(rate, sk_rate)
    assert count.sum() == 1000


def test_health_distribution_draws_one_histogram_per_segment():
    scores = pd.Series([10, 55, 80, 90, np.nan], index=list("abcde"))
    seg = pd.Series(["smb", "smb", "ent", "ent", "ent"], index=list("abcde"))
    ax = cp.health_distribution(scores, seg, bands=[(0, 50, "red"), (50, 100, "green")])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ent (n=2)", "smb (n=2)"]


def test_risk_heatmap_maps_statuses_to_levels():
    statuses = pd.DataFrame({"habit": ["green", "red"], "support": ["yellow", None]},
                            index=["a", "b"])
    ax = cp.risk_heatmap(statuses)
    grid = ax.images[0].get_array()
    np.testing.assert_array_equal(np.asarray(grid), [[1, 2], [3, 0]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["habit", "support"]


def test_score_history_fits_the_trend():
    days = pd.date_range("2024-01-01", periods=10)
    hist = pd.Series(np.arange(10) * 2.0 + 50, index=days, name="acme")
    ax = cp.score_history(hist, trend_days=5)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["score", "trend +2.00/day"]


def test_roc_and_calibration_curves_label_the_auc():
    y = np.array([0, 0, 1, 1])
    ax = cp.roc_curve(y, [0.1, 0.4, 0.35, 0.8])
    assert "AUC 0.750" in ax.get_legend().get_texts()[0].get_text()
    ax = cp.calibration_curve(y, [0.1, 0.2, 0.7, 0.9], bins=2)
    assert len(ax.lines[0].get_xdata()) == 2


def test_cta_aging_buckets_open_ctas():
    ctas = pd.DataFrame({
        "opened": pd.to_datetime(["2024-03-01", "2024-02-01", "2023-12-01", "2024-03-09"]),
        "priority": ["high", "low", "high", "high"],
        "category": ["open", "open", "open", "closed"],
    })
    ax = cp.cta_aging(ctas, as_of="2024-03-10")
    heights = {}
    for container, label in zip(ax.containers, ["high", "low"]):
        heights[label] = [p.get_height() for p in container]
    assert heights["high"] == [0, 1, 0, 0, 0, 1]
    assert heights["low"] == [0, 0, 0, 1, 0, 0]
