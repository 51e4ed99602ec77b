"""Shared fixtures of the Python suite: data paths and a headless matplotlib."""
import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    env = os.environ.get("CSCORE_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


@pytest.fixture(scope="session")
def telco_path() -> Path:
    path = shared_dir() / "data" / "telco_customer_churn.csv"
    if not path.exists():
        pytest.skip(f"Telco data not found at {path}")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
