"""examples/notebooks/health_walkthrough.ipynb runs headless from top to bottom.

The notebook finds the Telco data itself (../shared/data beside the repository, else the
sample in examples/data), so this test runs with or without the shared data.
"""
import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_walkthrough_executes_without_errors(repo_root):
    path = repo_root / "examples" / "notebooks" / "health_walkthrough.ipynb"
    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    # The kernel's own inline backend draws the plots as PNG outputs (headless).
    os.environ.pop("MPLBACKEND", None)
    # The kernel runs in the notebook's folder: a relative PYTHONPATH must not break it.
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths)
    try:
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = "".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    # The scorecard, the CTA list and the risk scorecard render as colored tables.
    assert "Scorecard &#x27;telco_health&#x27;" in html
    assert "CTAs (" in html and "Risk scorecard (" in html
    assert html.count("background:") > 20
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # distribution, ROC + calibration, history, aging, heatmap
