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


@pytest.fixture(scope="session")
def cli_path():
    """The `cscore` command of the CMake tree under test (CSCORE_BUILD_DIR), or None."""
    build = os.environ.get("CSCORE_BUILD_DIR")
    if build:
        for cand in (Path(build) / "bin" / "cscore", Path(build) / "src" / "cli" / "cscore"):
            if cand.exists():
                return cand
    return None
