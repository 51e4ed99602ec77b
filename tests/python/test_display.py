"""HTML tables color the cells the domain colors."""
import numpy as np
import pandas as pd

from cscore.display import PALETTE, color_of, html_table


def test_cells_get_status_colors_and_values_are_escaped():
    df = pd.DataFrame({"score": [42.0, np.nan], "label": ["<red>", "green"]},
                      index=pd.Index(["a", "b"], name="account"))
    html = html_table(df, colors={"score": pd.Series(["red", None], index=["a", "b"])},
                      caption="Health")
    assert f"background:{PALETTE['red']}" in html
    assert html.count(PALETTE["red"]) == 1 and PALETTE["green"] not in html
    assert "&lt;red&gt;" in html and "N/A" in html and "<caption" in html


def test_row_colors_and_truncation():
    df = pd.DataFrame({"x": range(5)})
    html = html_table(df, colors={"*": ["green"] * 5}, max_rows=2)
    assert html.count(PALETTE["green"]) == 2
    assert "2 of 5 rows" in html


def test_color_of():
    assert color_of("Red") == PALETTE["red"]
    assert color_of("#123456") == "#123456"
    assert color_of("mauve") is None and color_of(None) is None
