"""Rich display for notebooks: colored HTML tables for scorecards, risk scorecards and CTAs.

Jupyter calls an object's ``_repr_html_``; cscore's objects build theirs with
:func:`html_table`, which colors cells by the red / yellow / green vocabulary of the domain.
Plain HTML with inline styles, so it renders the same in Jupyter, VS Code and exported pages.

    >>> from cscore.display import html_table
    >>> html = html_table(df, colors={"score": df["color"]}, caption="Health")
"""
from __future__ import annotations

import html
from typing import Mapping, Optional

import numpy as np
import pandas as pd

__all__ = ["PALETTE", "html_table", "color_of"]

# Background colors per status (light tints so the text stays readable).
PALETTE = {
    "red": "#f4c7c3",
    "yellow": "#fce8b2",
    "green": "#b7e1cd",
    "gray": "#e0e0e0",
    "grey": "#e0e0e0",
    "blue": "#c6dafc",
    "orange": "#fcd8b0",
}


def color_of(name: object) -> Optional[str]:
    """CSS color for a status or color name ("red", "#aabbcc"...); None when unknown."""
    if not isinstance(name, str) or not name:
        return None
    key = name.strip().lower()
    if key in PALETTE:
        return PALETTE[key]
    if key.startswith("#") and len(key) in (4, 7):
        return key
    return None


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return '<span style="color:#999">N/A</span>'
    if isinstance(value, (float, np.floating)):
        return f"{value:,.1f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else str(value)
    return html.escape(str(value))


def html_table(df: pd.DataFrame, *, colors: Optional[Mapping[str, pd.Series]] = None,
               caption: Optional[str] = None, max_rows: int = 50) -> str:
    """An HTML table of ``df`` whose cells in ``colors``' columns get a background color.

    ``colors`` maps a column name to a Series (aligned with ``df``) of color or status
    names; "*" colors every cell of a row. Only the first ``max_rows`` rows are shown.
    """
    colors = dict(colors or {})
    shown = df.head(max_rows)
    cell = "padding:2px 8px;border:1px solid #ddd;text-align:right"
    head = "padding:2px 8px;border:1px solid #ddd;background:#f5f5f5"
    parts = ['<table class="cscore" style="border-collapse:collapse;font-size:12px">']
    if caption:
        parts.append(f'<caption style="text-align:left;font-weight:bold">{html.escape(caption)}'
                     "</caption>")
    index_name = html.escape(str(shown.index.name or ""))
    parts.append("<thead><tr>" + f'<th style="{head}">{index_name}</th>' +
                 "".join(f'<th style="{head}">{html.escape(str(c))}</th>' for c in shown.columns) +
                 "</tr></thead><tbody>")
    aligned = {k: v.reindex(shown.index) if isinstance(v, pd.Series) else
               pd.Series(list(v)[:len(shown)], index=shown.index) for k, v in colors.items()}
    row_colors = aligned.pop("*", None)
    for pos, idx in enumerate(shown.index):
        row_bg = color_of(row_colors.iloc[pos]) if row_colors is not None else None
        tds = [f'<th style="{head}">{html.escape(str(idx))}</th>']
        for col in shown.columns:
            bg = color_of(aligned[col].iloc[pos]) if col in aligned else None
            bg = bg or row_bg
            style = cell + (f";background:{bg}" if bg else "")
            tds.append(f'<td style="{style}">{_fmt(shown[col].iloc[pos])}</td>')
        parts.append("<tr>" + "".join(tds) + "</tr>")
    parts.append("</tbody></table>")
    if len(df) > len(shown):
        parts.append(f"<p style='font-size:11px;color:#666'>{len(shown)} of {len(df)} rows</p>")
    return "".join(parts)
