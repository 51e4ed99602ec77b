"""examples/notebooks/health_walkthrough.ipynb runs headless from top to bottom."""
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")


def test_walkthrough_executes_without_errors(repo_root, telco_path):
    path = repo_root / "examples" / "notebooks" / "health_walkthrough.ipynb"
    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    os.environ["CSCORE_TELCO_CSV"] = str(telco_path)
    os.environ["MPLBACKEND"] = "Agg"
    try:
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    assert html, "the scorecard and score tables render as HTML"
