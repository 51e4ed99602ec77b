"""The logistic churn model agrees with scikit-learn's LogisticRegression.

Drives the `cscore model` CLI: `fit --export-design` writes the exact design matrix it fitted
(one-hot categories, standardised numbers, the stratified train/test split), so scikit-learn
is fitted on the same numbers by construction. The reference is itself fitted to a tight
tolerance so that the comparison measures our solver, not an unconverged reference.
"""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
# newton-cg at a 1e-10 tolerance reaches the rounding floor of its line search and says so.
pytestmark = pytest.mark.filterwarnings("ignore:.*[Ll]ine [Ss]earch")


def cli() -> Path:
    build = os.environ.get("CSCORE_BUILD_DIR")
    path = Path(build) / "bin" / "cscore" if build else ROOT / "build" / "bin" / "cscore"
    if not path.exists():
        pytest.skip(f"cscore CLI not built at {path}")
    return path


def run(*args: str) -> str:
    done = subprocess.run([str(cli()), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def compare_with_sklearn(data: Path, tmp_path: Path, max_rel: float, max_auc_diff: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    model_path, design_path = tmp_path / "model.json", tmp_path / "design.csv"
    split = ["--holdout", "0.2", "--split-seed", "42"]
    run("model", "fit", "--data", str(data), "--target", "Churn", "--positive", "Yes",
        "--l2", "1.0", *split, "--out", str(model_path), "--export-design", str(design_path))
    model = json.loads(model_path.read_text())
    design = pd.read_csv(design_path)
    names = [f["name"] for f in model["features"]]
    assert list(design.columns[3:]) == names
    train, test = design[design.split == "train"], design[design.split == "test"]
    # Stratified 80/20: the churn share of both parts matches the whole to within a row.
    assert abs(len(test) - 0.2 * len(design)) <= 2
    assert abs(test.target.mean() - design.target.mean()) < 2.0 / len(test)

    ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=100000, solver="newton-cg")
    ref.fit(train[names].to_numpy(), train.target.to_numpy())
    ours = np.array([f["coef"] for f in model["features"]] + [model["intercept"]])
    theirs = np.concatenate([ref.coef_[0], ref.intercept_])
    rel = np.abs(ours - theirs) / np.maximum(np.abs(theirs), 1e-2)
    print(f"max relative coefficient difference {rel.max():.2e}")
    assert rel.max() < max_rel, f"worst: {names[int(rel.argmax())] if rel.argmax() < len(names) else 'intercept'}"

    report = json.loads(run("model", "backtest", "--model", str(model_path), "--data", str(data),
                            "--target", "Churn", *split, "--json"))
    assert report["accounts"] == len(test)
    sk_auc = roc_auc_score(test.target, ref.predict_proba(test[names].to_numpy())[:, 1])
    print(f"test AUC {report['auc']:.6f} vs scikit-learn {sk_auc:.6f}")
    assert abs(report["auc"] - sk_auc) < max_auc_diff
    # The CLI's scores are the model's probabilities, row for row.
    scores_path = tmp_path / "scores.csv"
    run("model", "score", "--model", str(model_path), "--data", str(data), "--out", str(scores_path))
    scores = pd.read_csv(scores_path)
    assert len(scores) == len(design)
    np.testing.assert_allclose(scores.probability.to_numpy(),
                               ref.predict_proba(design[names].to_numpy())[:, 1],
                               rtol=1e-4, atol=1e-7)


def test_full_telco_matches_sklearn(telco_path, tmp_path):
    compare_with_sklearn(telco_path, tmp_path, max_rel=1e-4, max_auc_diff=1e-3)


def test_sample_telco_matches_sklearn(tmp_path):
    compare_with_sklearn(ROOT / "examples" / "data" / "telco_sample.csv", tmp_path,
                         max_rel=1e-4, max_auc_diff=1e-3)


def test_fit_reports_bad_target(tmp_path):
    done = subprocess.run(
        [str(cli()), "model", "fit", "--data", str(ROOT / "examples/data/telco_sample.csv"),
         "--target", "Churn", "--positive", "Maybe", "--out", str(tmp_path / "m.json")],
        capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "Maybe" in done.stderr
