"""Display and export safety: Markdown escaping for st.table cells, CSV formula neutralising."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from csp_data.present.exports import csv_bytes, safe_frame
from csp_data.present.formatting import display_frame, md_escape, month


@pytest.mark.parametrize(
    "raw",
    [
        "LSOA_(2021)_to_Electoral_Ward_(2025)",
        "**bold** [link](http://example.invalid) <b>x</b>",
        "a*b*c ~~s~~ `code` # heading | pipe",
        "https://example.invalid/page www.example.invalid user@example.invalid",
    ],
)
def test_md_escape_leaves_no_unescaped_markdown_punctuation(raw):
    out = md_escape(raw)
    # every special character is preceded by a backslash, so Markdown renders it literally
    for i, ch in enumerate(out):
        if ch in "*_[]()<>`#|~:@" and (i == 0 or out[i - 1] != "\\"):
            pytest.fail(f"unescaped {ch!r} at {i} in {out!r}")
    # removing the escapes gives back the original text exactly
    assert out.replace("\\", "") == raw.replace("\\", "")


def test_month_formats_dates_and_blanks():
    assert month(date(2026, 2, 1)) == "Feb 2026"
    assert month(pd.Timestamp("2024-03-01")) == "Mar 2024"
    assert month("2025-11-01") == "Nov 2025"
    assert month(None) == ""
    assert month(pd.NaT) == ""


def test_display_frame_formats_each_kind_of_column():
    df = pd.DataFrame(
        {
            "month": pd.to_datetime(["2025-03-01", "2026-02-01"]),
            "count": pd.array([2984, None], dtype="Int64"),
            "rate": [1.5, 12000.0],
            "flag": [True, False],
            "file": ["mps/mps_ward_crime_2024-03_2026-03.parquet", None],
        }
    )
    out = display_frame(df)
    assert list(out["month"]) == ["Mar 2025", "Feb 2026"]
    assert list(out["count"]) == ["2,984", ""]
    assert list(out["rate"]) == ["1.50", "12,000"]
    assert list(out["flag"]) == ["yes", "no"]
    assert out["file"][0] == md_escape("mps/mps_ward_crime_2024-03_2026-03.parquet")
    assert out["file"][1] == ""
    assert df["count"].iloc[0] == 2984  # the input frame is not modified


def test_display_frame_named_month_columns_accept_date_objects():
    df = pd.DataFrame({"first_month": [date(2010, 4, 1)], "n": [1]})
    out = display_frame(df, month_cols=("first_month",))
    assert list(out.columns) == [md_escape("first_month"), "n"]  # headers are escaped too
    assert out[md_escape("first_month")][0] == "Apr 2010"


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x.invalid")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_export_neutralises_formula_cells(cell):
    df = pd.DataFrame({"text": [cell, "plain"], "number": [-5, 7]})
    out = safe_frame(df)
    assert out["text"][0] == "'" + cell
    assert out["text"][1] == "plain"
    assert list(out["number"]) == [-5, 7]  # numbers stay numbers, negative ones untouched
    raw = csv_bytes(df)
    assert raw.startswith("\ufeff".encode("utf-8"))  # BOM so Excel reads UTF-8
    if cell[0] not in "\t\r":  # (fields with control characters are quoted; skip the read-back)
        back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", keep_default_na=False)
        assert back["text"][0] == "'" + cell
        assert list(back["number"]) == [-5, 7]


def test_safe_frame_neutralises_headers_and_keeps_input():
    df = pd.DataFrame({"=cmd": ["a"]})
    out = safe_frame(df)
    assert list(out.columns) == ["'=cmd"]
    assert list(df.columns) == ["=cmd"]
