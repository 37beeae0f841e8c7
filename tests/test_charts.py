"""Chart builders: valid Vega-Lite, accessible (alt text, table, shapes, dashes, labels), offline.

All frames here are small synthetic ones built in this file.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import date
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from csp_data.plan.periods import add_months
from csp_data.present import charts
from csp_data.present.charts import (
    breakdown_bars,
    fy_bars,
    gauge,
    outcome_rate_chart,
    to_vega_spec,
    trend_chart,
    ward_bars,
)

# ---------------------------------------------------------------------------------------------
# synthetic inputs


def synthetic_trend(n: int = 24, start: date = date(2024, 3, 1)) -> pd.DataFrame:
    months = [add_months(start, i) for i in range(n)]
    counts = [100 + (i % 5) * 3 for i in range(n)]
    signal = [""] * n
    if n == 24:
        counts[-2] = 151  # Jan 2026: above the upper limit
        counts[5] = 61  # Aug 2024: below the lower limit
        counts[-1] = 104  # latest month
        signal[-2] = "above"
        signal[5] = "below"
        for i in range(10, 18):
            signal[i] = "run above"
    rolling = pd.Series(counts, dtype=float).rolling(12).mean()
    return pd.DataFrame(
        {
            "month": months,
            "count": counts,
            "rolling12": rolling,
            "centre": 105.0,
            "lcl": 74.3,
            "ucl": 135.7,
            "signal": signal,
        }
    )


def synthetic_fy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fy": ["FY2022-23", "FY2023-24", "FY2024-25", "FY2025-26"],
            "count": [1320, 1250, 1198, 690],
            "complete": [True, True, True, False],
            "months": [12, 12, 12, 7],
        }
    )


def synthetic_breakdown() -> pd.DataFrame:
    # deliberately not in order
    return pd.DataFrame(
        {
            "hate_strand": ["Disability", "Racist", "Homophobic", "Religious", "Transgender"],
            "offences": [20, 420, 95, 180, 12],
        }
    )


def synthetic_outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": ["Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025"],
            "offences": [120, 8, 140, 130],
            "positive_outcomes": [10, 1, 16, 9],
            "rate_pct": [8.3, None, 11.4, 6.9],
            "rate_low": [4.6, None, 7.1, 3.7],
            "rate_high": [14.7, None, 17.8, 12.6],
        }
    )


def synthetic_wards() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ward_code": [f"E0500{i:04d}" for i in range(6)],
            "ward_name": [
                "Bow East",
                "Spitalfields & Banglatown",
                "Poplar",
                "Weavers",
                "Canary Wharf",
                "Mile End",
            ],
            "count": [120, 410, 95, 150, 260, 88],
        }
    )


def all_builders():
    return {
        "trend": trend_chart(
            synthetic_trend(),
            "Robbery offences in Tower Hamlets",
            "robbery offences",
            breaks=[(date(2024, 3, 1), "CONNECT recording change")],
        ),
        "fy": fy_bars(
            synthetic_fy(),
            "Robbery by financial year",
            "robbery offences",
            target=1100,
            target_label="2028 target (down 7%)",
        ),
        "breakdown": breakdown_bars(
            synthetic_breakdown(), "Hate crime by strand", "hate_strand", "offences", "offences"
        ),
        "outcomes": outcome_rate_chart(
            synthetic_outcomes(), "Hate crime positive outcomes", 10.0, "Previous plan target 10%"
        ),
        "gauge": gauge(1200, 1150, 1116, "lower", "Robbery (12 months)", "✔ on track", path_value=1170),
        "gauge_awaiting": gauge(1200, None, 1116, "lower", "Robbery (12 months)", "too early to tell"),
        "wards": ward_bars(synthetic_wards(), "Robbery by ward", "count", "Offences"),
    }


# ---------------------------------------------------------------------------------------------
# spec helpers


def layers(spec: dict) -> list[dict]:
    return spec["layer"]


def mark_type(layer: dict) -> str:
    m = layer["mark"]
    return m if isinstance(m, str) else m["type"]


def mark_prop(layer: dict, key: str):
    m = layer["mark"]
    return None if isinstance(m, str) else m.get(key)


def values(spec: dict, layer: dict) -> list[dict]:
    """The rows a layer draws (altair hoists data shared by every layer to the top level)."""
    data = layer.get("data") or spec["data"]
    return spec["datasets"][data["name"]]


def of_type(spec: dict, kind: str) -> list[dict]:
    return [lyr for lyr in layers(spec) if mark_type(lyr) == kind]


def texts(spec: dict) -> list[str]:
    """Every text label drawn by a text layer (its text field's values)."""
    out = []
    for lyr in of_type(spec, "text"):
        field = lyr["encoding"]["text"]["field"]
        out += [str(r.get(field)) for r in values(spec, lyr)]
    return out


def contrast(hex_colour: str, against: str = "#ffffff") -> float:
    def lum(h):
        h = h.lstrip("#")
        chans = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in chans]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted([lum(hex_colour), lum(against)], reverse=True)
    return (a + 0.05) / (b + 0.05)


# ---------------------------------------------------------------------------------------------
# every builder: valid, described, offline, styled


@pytest.fixture(scope="module")
def built():
    return all_builders()


@pytest.mark.parametrize("name", ["trend", "fy", "breakdown", "outcomes", "gauge", "gauge_awaiting", "wards"])
def test_every_builder_returns_valid_described_container_width_chart(built, name):
    chart, alt_text, table = built[name]
    assert isinstance(chart, alt.TopLevelMixin)
    spec = chart.to_dict()  # validates against the Vega-Lite schema; raises if invalid
    assert spec == to_vega_spec(chart)
    assert spec["description"] == alt_text
    assert spec["width"] == "container"
    assert isinstance(table, pd.DataFrame) and len(table) > 0
    assert all(isinstance(c, str) and c and "_" not in c for c in table.columns), list(table.columns)
    # one to three sentences, ending in a full stop
    assert alt_text.endswith(".")
    sentences = re.findall(r"[.!?](?:\s|$)", alt_text)
    assert 1 <= len(sentences) <= 3, alt_text


@pytest.mark.parametrize("name", ["trend", "fy", "breakdown", "outcomes", "gauge", "gauge_awaiting", "wards"])
def test_spec_names_no_url_but_its_schema(built, name):
    spec = built[name][0].to_dict()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "http" in json.dumps(spec)  # the check below is not vacuous
    rest = {k: v for k, v in spec.items() if k != "$schema"}
    dumped = json.dumps(rest)
    assert "http" not in dumped
    assert '"url"' not in dumped  # all data inline
    # no font family anywhere (so no web font): only sizes, weights and styles
    cfg = spec.get("config", {})
    assert "font" not in cfg and all("font" not in v for v in cfg.values() if isinstance(v, dict))
    assert all("font" not in lyr["mark"] for lyr in spec.get("layer", []) if isinstance(lyr["mark"], dict))


@pytest.mark.parametrize("name", ["trend", "fy", "breakdown", "outcomes", "gauge", "wards"])
def test_labels_are_at_least_12px_and_dark(built, name):
    spec = built[name][0].to_dict()
    cfg = spec["config"]
    assert cfg["axis"]["labelFontSize"] >= 12 and cfg["axis"]["titleFontSize"] >= 12
    assert cfg["legend"]["labelFontSize"] >= 12
    assert cfg["text"]["fontSize"] >= 12
    assert contrast(cfg["axis"]["labelColor"]) >= 4.5
    for lyr in layers(spec):
        size = mark_prop(lyr, "fontSize")
        assert size is None or size >= 12


def test_palette_has_3_to_1_contrast_against_white():
    for name, colour in charts.PALETTE.items():
        assert contrast(colour) >= 3.0, name
    assert contrast("#ffffff") == pytest.approx(1.0)  # the helper itself works


def test_charts_module_does_not_import_streamlit():
    tree = ast.parse(Path(charts.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "altair" in imported
    assert "streamlit" not in imported


# ---------------------------------------------------------------------------------------------
# 1. trend


def test_trend_layers_line_dashed_average_band_and_shaped_signals(built):
    chart, _, _ = built["trend"]
    spec = chart.to_dict()
    kinds = [mark_type(lyr) for lyr in layers(spec)]
    assert "area" in kinds and "line" in kinds and "rule" in kinds and "text" in kinds

    line = of_type(spec, "line")[0]
    dash = line["encoding"]["strokeDash"]["scale"]
    styles = dict(zip(dash["domain"], dash["range"]))
    assert styles["Monthly robbery offences"] == [1, 0]  # solid
    assert styles["12-month rolling average"] != [1, 0] and len(styles["12-month rolling average"]) >= 2
    assert styles["Control limits"] not in ([1, 0], styles["12-month rolling average"])
    assert styles["Centre line (average)"] not in (
        [1, 0],
        styles["12-month rolling average"],
        styles["Control limits"],
    )
    # the colour legend and dash legend are the same field, so they merge into one legend
    assert line["encoding"]["color"]["field"] == line["encoding"]["strokeDash"]["field"]

    band = of_type(spec, "area")[0]
    assert band["encoding"]["y"]["field"] == "Lower control limit"
    assert band["encoding"]["y2"]["field"] == "Upper control limit"
    assert band["encoding"]["fill"]["legend"] is not None  # the band has its own legend entry

    shaped = [lyr for lyr in of_type(spec, "point") if "shape" in lyr["encoding"]]
    assert len(shaped) == 1
    shape = shaped[0]["encoding"]["shape"]
    mapping = dict(zip(shape["scale"]["domain"], shape["scale"]["range"]))
    assert mapping["Above upper control limit"] == "triangle-up"
    assert mapping["Below lower control limit"] == "triangle-down"
    assert mapping["In a run above the centre line"] not in ("triangle-up", "triangle-down", "circle")
    flagged = values(spec, shaped[0])
    assert {r["Month"] for r in flagged if r["Signal"] == "Above upper control limit"} == {"Jan 2026"}
    assert len(flagged) == 10  # 1 above + 1 below + 8 in a run
    tips = {t["field"] for t in shaped[0]["encoding"]["tooltip"]}
    assert {
        "Month",
        "Robbery offences",
        "12-month average",
        "Lower control limit",
        "Upper control limit",
        "Signal",
    } <= tips


def test_trend_break_rule_is_labelled(built):
    spec = built["trend"][0].to_dict()
    assert "CONNECT recording change" in texts(spec)
    rules = of_type(spec, "rule")
    assert any(r["Month"] == "Mar 2024" for lyr in rules for r in values(spec, lyr))


def test_trend_alt_text_quotes_the_real_numbers(built):
    _, alt_text, _ = built["trend"]
    df = synthetic_trend()
    assert alt_text.startswith("Robbery offences in Tower Hamlets, Mar 2024 to Feb 2026")
    assert "Latest month (Feb 2026) 104" in alt_text
    avg = df["rolling12"].iloc[-1]
    assert f"12-month average {charts.fmt(round(avg, 1))}" in alt_text
    assert "control limits 74.3 to 135.7" in alt_text
    assert "2 months outside the control limits (Aug 2024, below; Jan 2026, above)" in alt_text
    assert "8 months in a sustained run above the centre line (Jan 2025 to Aug 2025)" in alt_text
    assert "CONNECT recording change" in alt_text


def test_trend_table_has_one_row_per_month_with_readable_columns(built):
    chart, _, table = built["trend"]
    df = synthetic_trend()
    assert list(table.columns) == [
        "Month",
        "Robbery offences",
        "12-month average",
        "Centre line",
        "Lower control limit",
        "Upper control limit",
        "Signal",
        "Series break",
    ]
    assert len(table) == len(df)
    assert table["Month"].iloc[0] == "Mar 2024" and table["Month"].iloc[-1] == "Feb 2026"
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", m) for m in table["Month"])
    assert list(table["Robbery offences"]) == list(df["count"])
    assert table.loc[table["Month"] == "Mar 2024", "Series break"].item() == "CONNECT recording change"
    # the table's figures are the ones plotted
    spec = chart.to_dict()
    points = [lyr for lyr in of_type(spec, "point") if "shape" not in lyr["encoding"]][0]
    plotted = values(spec, points)
    assert [r["Robbery offences"] for r in plotted] == list(table["Robbery offences"])


def test_trend_nan_rolling_values_do_not_break_it():
    df = synthetic_trend(8)  # fewer than 12 months: every rolling value is NaN
    assert df["rolling12"].isna().all()
    chart, alt_text, table = trend_chart(df, "Short series", "offences")
    spec = chart.to_dict()
    line = of_type(spec, "line")[0]
    assert "12-month rolling average" not in line["encoding"]["color"]["scale"]["domain"]
    assert "12-month average" not in alt_text
    assert len(table) == 8 and table["12-month average"].isna().all()
    assert "NaN" not in json.dumps(spec)


def test_trend_partly_nan_rolling_and_a_missing_month():
    df = synthetic_trend(14)
    df.loc[3, "count"] = np.nan  # a missing month stays missing, not zero
    chart, alt_text, table = trend_chart(df, "Gappy", "offences")
    spec = chart.to_dict()
    line = of_type(spec, "line")[0]
    rows = values(spec, line)
    assert [r["value"] for r in rows if r["series"] == "Monthly offences"][3] is None
    assert len([r for r in rows if r["series"] == "12-month rolling average"]) == 3  # months 12-14 only
    assert "no figure for Jun 2024" in alt_text
    assert pd.isna(table["Offences"].iloc[3])


def test_trend_without_signals_or_breaks_has_no_shape_layer_and_says_so():
    df = synthetic_trend(12)
    df["signal"] = ""
    chart, alt_text, table = trend_chart(df, "Quiet", "offences", breaks=[(date(2020, 1, 1), "out of range")])
    spec = chart.to_dict()
    assert not [lyr for lyr in of_type(spec, "point") if "shape" in lyr["encoding"]]
    assert not of_type(spec, "rule")  # the out-of-range break is not drawn
    assert "No months outside the control limits" in alt_text
    assert "Series break" not in table.columns


def test_trend_sorts_months_and_accepts_timestamps():
    df = synthetic_trend(13).iloc[::-1].copy()
    df["month"] = pd.to_datetime(df["month"])
    _, alt_text, table = trend_chart(df, "Reversed", "offences")
    assert table["Month"].iloc[0] == "Mar 2024" and table["Month"].iloc[-1] == "Mar 2025"
    assert "Mar 2024 to Mar 2025" in alt_text


@pytest.mark.parametrize("col", ["month", "count", "rolling12", "centre", "lcl", "ucl", "signal"])
def test_trend_missing_column_is_named(col):
    with pytest.raises(ValueError, match=repr(col)):
        trend_chart(synthetic_trend().drop(columns=[col]), "t", "offences")


def test_trend_rejects_empty_unknown_signal_and_duplicate_months():
    with pytest.raises(ValueError, match="empty"):
        trend_chart(synthetic_trend().iloc[0:0], "t", "offences")
    bad = synthetic_trend()
    bad.loc[2, "signal"] = "sideways"
    with pytest.raises(ValueError, match="sideways"):
        trend_chart(bad, "t", "offences")
    dup = pd.concat([synthetic_trend(3), synthetic_trend(3)])
    with pytest.raises(ValueError, match="more than once"):
        trend_chart(dup, "t", "offences")


# ---------------------------------------------------------------------------------------------
# 2. financial-year bars


def test_fy_bars_incomplete_year_is_hatched_outlined_and_labelled(built):
    spec = built["fy"][0].to_dict()
    bars = of_type(spec, "bar")
    assert len(bars) == 2
    solid = [b for b in bars if isinstance(b["mark"].get("color"), str)]
    hatched = [b for b in bars if isinstance(b["mark"].get("color"), dict)]
    assert len(solid) == 1 and len(hatched) == 1
    gradient = hatched[0]["mark"]["color"]
    assert gradient["gradient"] == "linear" and len({s["color"] for s in gradient["stops"]}) == 2
    assert hatched[0]["mark"]["strokeDash"]  # dashed outline: not colour alone
    labels = texts(spec)
    assert "690 to date" in labels and "(7 months)" in labels
    assert "1,320" in labels


def test_fy_bars_target_rule_is_labelled(built):
    spec = built["fy"][0].to_dict()
    rules = of_type(spec, "rule")
    assert len(rules) == 1 and rules[0]["mark"]["strokeDash"]
    assert values(spec, rules[0])[0]["target"] == 1100
    # named in the subtitle, not on the plot where it would collide with bar labels
    assert any("2028 target (down 7%): 1,100" in line for line in spec["title"]["subtitle"])
    assert not any("1,100" in t for t in texts(spec))


def test_fy_bars_alt_text_and_table(built):
    _, alt_text, table = built["fy"]
    assert "FY2024-25: 1,198" in alt_text
    assert "FY2025-26: 690 to date (7 months)" in alt_text
    assert "2028 target (down 7%): 1,100" in alt_text and "98 above it" in alt_text
    assert list(table.columns) == [
        "Financial year",
        "Robbery offences",
        "Months",
        "Status",
        "2028 target (down 7%)",
    ]
    assert len(table) == 4
    assert table["Status"].tolist() == ["Full year"] * 3 + ["To date (7 months)"]


def test_fy_bars_target_label_already_holding_the_value_is_not_repeated():
    chart, alt_text, _ = fy_bars(
        synthetic_fy(), "t", "Hate crime", target=1000, target_label="Target for 2028: 1,000"
    )
    assert any(line.endswith("Target for 2028: 1,000") for line in chart.to_dict()["title"]["subtitle"])
    assert "1,000: 1,000" not in alt_text and "Target for 2028: 1,000; the latest full year" in alt_text


def test_trend_series_names_read_naturally():
    spec = trend_chart(synthetic_trend(13), "t", "Hate crime")[0].to_dict()
    assert "Monthly hate crime" in of_type(spec, "line")[0]["encoding"]["color"]["scale"]["domain"]
    spec = trend_chart(synthetic_trend(13), "t", "ASB calls")[0].to_dict()
    assert "Monthly ASB calls" in of_type(spec, "line")[0]["encoding"]["color"]["scale"]["domain"]


def test_fy_bars_without_target_has_no_rule():
    chart, alt_text, table = fy_bars(synthetic_fy().iloc[:3], "All complete", "offences")
    spec = chart.to_dict()
    assert not of_type(spec, "rule")
    assert "target" not in alt_text.lower() and "Hatched" not in alt_text
    assert list(table.columns) == ["Financial year", "Offences", "Months", "Status"]


@pytest.mark.parametrize("col", ["fy", "count", "complete", "months"])
def test_fy_bars_missing_column_is_named(col):
    with pytest.raises(ValueError, match=repr(col)):
        fy_bars(synthetic_fy().drop(columns=[col]), "t", "offences")


def test_fy_bars_empty_is_refused():
    with pytest.raises(ValueError, match="empty"):
        fy_bars(synthetic_fy().iloc[0:0], "t", "offences")


# ---------------------------------------------------------------------------------------------
# 3. breakdown bars


def test_breakdown_sorted_descending_with_value_labels(built):
    chart, alt_text, table = built["breakdown"]
    spec = chart.to_dict()
    bar = of_type(spec, "bar")[0]
    assert bar["encoding"]["y"]["sort"] == ["Racist", "Religious", "Homophobic", "Disability", "Transgender"]
    assert bar["encoding"]["x"]["field"] == "Offences"
    assert texts(spec) == ["420", "180", "95", "20", "12"]
    assert list(table.columns) == ["Hate strand", "Offences"]
    assert table["Offences"].tolist() == [420, 180, 95, 20, 12]
    assert "total 727" in alt_text and "Racist (420)" in alt_text and "Transgender (12)" in alt_text


def test_breakdown_missing_values_are_dropped_and_named():
    df = synthetic_breakdown()
    df.loc[0, "offences"] = np.nan
    _, alt_text, table = breakdown_bars(df, "t", "hate_strand", "offences", "offences")
    assert len(table) == 4 and "Disability" not in set(table["Hate strand"])
    assert "not shown (no value): Disability" in alt_text


def test_breakdown_errors():
    with pytest.raises(ValueError, match="'hate_strand'"):
        breakdown_bars(
            synthetic_breakdown().drop(columns=["hate_strand"]), "t", "hate_strand", "offences", "o"
        )
    with pytest.raises(ValueError, match="'offences'"):
        breakdown_bars(synthetic_breakdown().drop(columns=["offences"]), "t", "hate_strand", "offences", "o")
    with pytest.raises(ValueError, match="empty"):
        breakdown_bars(synthetic_breakdown().iloc[0:0], "t", "hate_strand", "offences", "o")


# ---------------------------------------------------------------------------------------------
# 4. outcome rates


def test_outcome_rate_points_error_bars_and_dashed_target(built):
    chart, _, _ = built["outcomes"]
    spec = chart.to_dict()
    ci = [lyr for lyr in of_type(spec, "rule") if "y2" in lyr["encoding"]]
    assert len(ci) == 1
    assert ci[0]["encoding"]["y"]["field"] == "Interval low (%)"
    assert ci[0]["encoding"]["y2"]["field"] == "Interval high (%)"
    assert len(values(spec, ci[0])) == 3  # the suppressed period has no interval
    target = [lyr for lyr in of_type(spec, "rule") if "y2" not in lyr["encoding"]]
    assert len(target) == 1 and target[0]["mark"]["strokeDash"]
    assert values(spec, target[0])[0]["target"] == 10.0
    # the target is named by a legend entry under the plot, not a label on the rule
    assert target[0]["encoding"]["color"]["scale"]["domain"] == ["Previous plan target 10%"]
    assert target[0]["encoding"]["color"]["legend"]["orient"] == "bottom"
    labels = texts(spec)
    assert "<10 offences" in labels and "6.9%" in labels
    points = of_type(spec, "point")[0]
    assert points["encoding"]["x"]["sort"] == ["Q1 2025", "Q2 2025", "Q3 2025", "Q4 2025"]


def test_outcome_rate_alt_text_and_table(built):
    _, alt_text, table = built["outcomes"]
    assert "Latest period Q4 2025: 6.9%, 9 positive outcomes from 130 offences" in alt_text
    assert "interval 3.7% to 12.6%" in alt_text
    assert "previous plan target 10%, which is within the interval" in alt_text
    assert "1 period with fewer than 10 offences has no rate shown" in alt_text
    assert list(table.columns) == [
        "Period",
        "Offences",
        "Positive outcomes",
        "Positive outcome rate (%)",
        "Interval low (%)",
        "Interval high (%)",
        "Note",
    ]
    assert len(table) == 4
    assert table["Note"].iloc[1] == "Rate not shown: fewer than 10 offences"
    assert table["Note"].iloc[0] == ""


def test_outcome_rate_with_no_rates_and_date_periods():
    df = synthetic_outcomes().iloc[[1]].copy()
    df["period"] = [date(2025, 6, 1)]
    chart, alt_text, table = outcome_rate_chart(df, "Tiny", None, "")
    chart.to_dict()
    assert "no rate is shown" in alt_text
    assert table["Period"].tolist() == ["Jun 2025"]


def test_outcome_rate_default_target_label():
    chart, alt_text, _ = outcome_rate_chart(synthetic_outcomes(), "t", 12.5, "")
    target = [lyr for lyr in of_type(chart.to_dict(), "rule") if "y2" not in lyr["encoding"]]
    assert target[0]["encoding"]["color"]["scale"]["domain"] == ["Target 12.5%"]
    assert "target 12.5%" in alt_text


@pytest.mark.parametrize(
    "col", ["period", "offences", "positive_outcomes", "rate_pct", "rate_low", "rate_high"]
)
def test_outcome_rate_missing_column_is_named(col):
    with pytest.raises(ValueError, match=repr(col)):
        outcome_rate_chart(synthetic_outcomes().drop(columns=[col]), "t", 10, "")


def test_outcome_rate_empty_is_refused():
    with pytest.raises(ValueError, match="empty"):
        outcome_rate_chart(synthetic_outcomes().iloc[0:0], "t", 10, "")


# ---------------------------------------------------------------------------------------------
# 5. gauge


def test_gauge_bullet_layers_and_status_in_title(built):
    chart, alt_text, table = built["gauge"]
    spec = chart.to_dict()
    assert spec["title"]["text"] == "Robbery (12 months): ✔ on track"
    bars = of_type(spec, "bar")
    assert len(bars) == 2  # grey range + latest
    assert values(spec, bars[0])[0]["start"] == 0 and values(spec, bars[0])[0]["end"] >= 1200
    assert values(spec, bars[1])[0]["Value"] == 1150
    marker = of_type(spec, "point")[0]
    rows = {r["What"]: r["Value"] for r in values(spec, marker)}
    assert rows == {"Baseline": 1200, "Target": 1116, "Expected now on the path to target": 1170}
    shapes = dict(
        zip(marker["encoding"]["shape"]["scale"]["domain"], marker["encoding"]["shape"]["scale"]["range"])
    )
    assert len(set(shapes.values())) == len(shapes)  # each marker its own shape
    assert alt_text == (
        "Robbery (12 months): on track. Latest 1,150 against a baseline of 1,200 and a target of "
        "1,116 (lower is better). The path to the target expects about 1,170 by now."
    )
    assert table.to_dict("records") == [
        {"Item": "Latest", "Value": 1150},
        {"Item": "Baseline", "Value": 1200},
        {"Item": "Target", "Value": 1116},
        {"Item": "Expected now on the path to target", "Value": 1170},
    ]


def test_gauge_awaiting_data_shows_only_baseline_and_target(built):
    chart, alt_text, table = built["gauge_awaiting"]
    spec = chart.to_dict()
    assert "awaiting data" in alt_text and "Baseline 1,200" in alt_text and "target 1,116" in alt_text
    assert "awaiting data" in spec["title"]["text"]
    assert len(of_type(spec, "bar")) == 1  # only the grey range
    marker = of_type(spec, "point")[0]
    assert {r["What"] for r in values(spec, marker)} == {"Baseline", "Target"}
    assert table["Item"].tolist() == ["Baseline", "Target"]


def test_gauge_awaiting_ignores_path_and_nan_latest():
    chart, alt_text, table = gauge(50, float("nan"), 60, "higher is better", "Referrals", "—", path_value=55)
    assert "awaiting data" in alt_text and "higher is better" in alt_text
    assert table["Item"].tolist() == ["Baseline", "Target"]
    chart.to_dict()


def test_gauge_errors():
    with pytest.raises(ValueError, match="direction"):
        gauge(10, 9, 8, "sideways", "x", "s")
    with pytest.raises(ValueError, match="baseline"):
        gauge(None, 9, 8, "lower", "x", "s")
    with pytest.raises(ValueError, match="target"):
        gauge(10, 9, None, "lower", "x", "s")


# ---------------------------------------------------------------------------------------------
# 6. wards


def test_ward_bars_ranked_with_labelled_borough_average(built):
    chart, alt_text, table = built["wards"]
    spec = chart.to_dict()
    bar = of_type(spec, "bar")[0]
    assert bar["encoding"]["y"]["sort"][1:] == [
        "Spitalfields & Banglatown",
        "Canary Wharf",
        "Weavers",
        "Bow East",
        "Poplar",
        "Mile End",
    ]
    avg = round(sum([120, 410, 95, 150, 260, 88]) / 6, 2)
    rule = of_type(spec, "rule")[0]
    assert values(spec, rule)[0]["Offences"] == pytest.approx(avg)
    assert f"Borough average: {charts.fmt(avg)}" in texts(spec)
    assert list(table.columns) == ["Rank", "Ward", "Offences", "Compared with borough average"]
    assert table["Rank"].tolist() == list(range(1, 7)) and len(table) == 6
    assert table["Compared with borough average"].tolist() == [
        "above",
        "above",
        "below",
        "below",
        "below",
        "below",
    ]
    assert "Spitalfields & Banglatown (410)" in alt_text and "Mile End (88)" in alt_text
    assert f"Borough average {charts.fmt(avg)}; 2 wards above it" in alt_text


@pytest.mark.parametrize("ward_col", ["ward", "Ward"])
def test_ward_bars_explicit_average_and_ward_column_fallback(ward_col):
    df = synthetic_wards().rename(columns={"ward_name": ward_col})
    chart, alt_text, table = ward_bars(df, "Rate", "count", "Offences per 1,000", average=150.0)
    assert "Borough average: 150" in texts(chart.to_dict())
    assert "Borough average 150; 2 wards above it" in alt_text
    assert table["Ward"].iloc[0] == "Spitalfields & Banglatown"


def test_trend_alt_text_lists_separate_runs_separately():
    df = synthetic_trend(24)
    df["signal"] = ""
    df.loc[2:9, "signal"] = "run below"
    df.loc[15:16, "signal"] = "run below"
    _, alt_text, _ = trend_chart(df, "Runs", "offences")
    assert (
        "10 months in a sustained run below the centre line (May 2024 to Dec 2024; Jun 2025 to Jul 2025)"
        in alt_text
    )


@pytest.mark.parametrize(
    "status, spoken",
    [("✔ on track", "on track"), ("… too early to tell", "too early to tell"), ("✖ off track", "off track")],
)
def test_gauge_alt_text_speaks_status_without_symbols(status, spoken):
    chart, alt_text, _ = gauge(100, 95, 90, "lower", "Knife crime", status)
    assert alt_text.startswith(f"Knife crime: {spoken}.")
    assert chart.to_dict()["title"]["text"] == f"Knife crime: {status}"  # the symbol stays visible


def test_ward_bars_errors():
    with pytest.raises(ValueError, match="'ward_name'"):
        ward_bars(synthetic_wards().drop(columns=["ward_name"]), "t", "count", "Offences")
    with pytest.raises(ValueError, match="'rate'"):
        ward_bars(synthetic_wards(), "t", "rate", "Offences")
    with pytest.raises(ValueError, match="empty"):
        ward_bars(synthetic_wards().iloc[0:0], "t", "count", "Offences")


def test_non_dataframe_input_is_a_clear_error():
    with pytest.raises(ValueError, match="DataFrame"):
        trend_chart([{"month": date(2025, 1, 1)}], "t", "o")


def test_fmt_numbers():
    assert charts.fmt(1234) == "1,234"
    assert charts.fmt(104.0) == "104"
    assert charts.fmt(107.56) == "107.6"
    assert charts.fmt(float("nan")) == "no data"


# ----------------------------------------------------------------------------- trajectory


def synthetic_trajectory() -> pd.DataFrame:
    """Synthetic: a baseline year, a part year and two future years."""
    return pd.DataFrame(
        {
            "fy": ["FY2024-25", "FY2025-26", "FY2026-27", "FY2027-28"],
            "months": [12, 11, 0, 0],
            "recorded": [1415, 1180, None, None],
            "expected": [1411.3, 1272.5, 1349.7, 1320.3],
            "full_year": [1411.3, 1382.7, 1349.7, 1320.3],
        }
    )


def test_trajectory_chart_bars_against_a_dashed_path_with_diamonds():
    from csp_data.present.charts import trajectory_chart

    chart, alt_text, table = trajectory_chart(
        synthetic_trajectory(), "Robbery: recorded against the path", "Robbery"
    )
    spec = chart.to_dict()
    assert spec["description"] == alt_text
    lines = of_type(spec, "line")
    assert (
        len(lines) == 1 and lines[0]["mark"]["strokeDash"] and lines[0]["mark"]["point"]["shape"] == "diamond"
    )
    assert len(of_type(spec, "bar")) == 1
    assert "FY2025-26 (11 months): 1,180 against 1,272.5 on the path" in alt_text
    assert "FY2027-28: no data yet, path 1,320.3" in alt_text
    assert len(table) == 4 and list(table.columns) == [
        "Financial year",
        "Months held",
        "Robbery recorded",
        "Expected on the path (same months)",
        "Path, full year",
    ]
    assert "http" not in json.dumps({k: v for k, v in spec.items() if k != "$schema"})


def test_trajectory_chart_refuses_missing_columns_and_empty_frames():
    from csp_data.present.charts import trajectory_chart

    with pytest.raises(ValueError, match="full_year"):
        trajectory_chart(synthetic_trajectory().drop(columns="full_year"), "t", "Robbery")
    with pytest.raises(ValueError):
        trajectory_chart(synthetic_trajectory().iloc[:0], "t", "Robbery")


def test_ratio_dots_draws_with_a_label_that_is_not_a_field_path():
    """A value label with an apostrophe ("group's") was once a Vega field name: Vega read the
    apostrophe as an unclosed quote and the chart drew nothing in the browser. Compile it for real."""
    import vl_convert as vlc

    df = pd.DataFrame(
        {
            "category": ["Black", "Black", "Asian", "Asian"],
            "series": ["Tower Hamlets", "London", "Tower Hamlets", "London"],
            "ratio": [3.29, 3.29, 1.38, 1.02],
            "low": [3.0, 3.2, 1.28, 1.0],
            "high": [3.61, 3.38, 1.48, 1.05],
        }
    )
    chart, alt_text, table = charts.ratio_dots(
        df, "Search rate", "by group", "Ratio to the White group's rate"
    )
    svg = vlc.vegalite_to_svg(chart.to_dict())
    assert "<svg" in svg and "3.29" in svg
    assert "Ratio to the White group's rate" in table.columns
