"""Downloads: spreadsheet-safe CSV (csp_data.present.exports.safe_frame / csv_bytes), chart images through
vl-convert (chart_png / chart_svg) on charts drawn from the real embedded data, and the Streamlit
download buttons in csp_data/ui/downloads.py (lazy, no rerun, stable keys, safe file names)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date

import altair as alt
import pandas as pd
import pytest

from csp_data.analysis import stats
from csp_data.analysis.targets import evaluate_all
from csp_data.analysis.trends import view
from csp_data.config import REPO_ROOT
from csp_data.plan.measures import get
from csp_data.present import charts, exports
from csp_data.present.exports import ChartExportError, chart_png, chart_svg, csv_bytes, safe_frame

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def read_back(data: bytes, keep_blank: bool = True) -> pd.DataFrame:
    """The CSV as a spreadsheet would see it (``keep_blank``: an empty cell stays "", not NaN)."""
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads £ and –"
    return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=not keep_blank)


# ----------------------------------------------------------------------------- CSV formula escaping


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+44 20 7364 5000",
        "-2",
        "@SUM(A1)",
        "\tx",
        "\rx",
        '=HYPERLINK("http://example.invalid","click")',
    ],
)
def test_formula_like_text_is_neutralised(cell):
    df = pd.DataFrame({"text": [cell, "plain"]})
    out = safe_frame(df)
    assert out["text"].tolist() == ["'" + cell, "plain"]
    assert df["text"].tolist() == [cell, "plain"], "the input frame is not changed"


def test_text_that_only_contains_a_formula_character_is_left_alone():
    df = pd.DataFrame({"text": ["a=b", "1+1", "x-y", "name@example", " =not first"]})
    assert safe_frame(df)["text"].tolist() == df["text"].tolist()


def test_numbers_stay_numbers():
    df = pd.DataFrame({"count": [5, -3, 0], "rate": [1.5, -0.25, float("nan")], "label": ["-3", "5", "=x"]})
    out = safe_frame(df)
    assert out["count"].tolist() == [5, -3, 0] and out["count"].dtype == df["count"].dtype
    assert out["rate"].iloc[:2].tolist() == [1.5, -0.25] and out["rate"].dtype == df["rate"].dtype
    back = read_back(csv_bytes(df), keep_blank=False)
    assert back["count"].tolist() == [5, -3, 0]
    assert pd.api.types.is_integer_dtype(back["count"])
    assert pd.api.types.is_float_dtype(back["rate"])
    assert back["rate"].iloc[:2].tolist() == [1.5, -0.25] and pd.isna(back["rate"].iloc[2])
    assert back["label"].tolist() == ["'-3", "5", "'=x"], "text that looks like a number is still text"


def test_a_carriage_return_inside_a_cell_cannot_start_a_new_row():
    """Unquoted, a CR mid-cell would split the row and put "=cmd" at the start of a cell of its own."""
    df = pd.DataFrame({"text": ["ok\r=cmd|' /C calc'!A0", "a\n@SUM(1)", "plain"], "n": [1, 2, 3]})
    data = csv_bytes(df)
    assert data.count(b"\r\n") == 4, "header and three rows, each ending in CRLF"
    back = read_back(data)
    assert len(back) == 3
    assert back["text"].tolist() == df["text"].tolist() and back["n"].tolist() == [1, 2, 3]
    import csv as _csv

    rows = list(_csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [len(r) for r in rows] == [2, 2, 2, 2]


def test_header_cells_are_neutralised():
    df = pd.DataFrame({"=cmd|' /C calc'!A0": [1], "+x": [2], "-y": [3], "@z": [4], "ok": [5]})
    back = read_back(csv_bytes(df))
    assert list(back.columns) == ["'=cmd|' /C calc'!A0", "'+x", "'-y", "'@z", "ok"]
    assert back.iloc[0].tolist() == [1, 2, 3, 4, 5]


def test_string_and_categorical_columns_and_round_trip():
    df = pd.DataFrame(
        {
            "ward": pd.array(["=Lansbury", "Mile End", None], dtype="string"),
            "kind": pd.Categorical(["@ward", "-lsoa", "borough"]),
            "note": ["£5 – ok", "\t=tab", "\r=cr"],
            "n": [1, 2, 3],
        }
    )
    data = csv_bytes(df)
    back = read_back(data)
    assert back["ward"].tolist() == ["'=Lansbury", "Mile End", ""]
    assert back["kind"].tolist() == ["'@ward", "'-lsoa", "borough"]
    assert back["note"].iloc[0] == "£5 – ok"
    assert back["note"].iloc[1] == "'\t=tab"
    assert back["note"].iloc[2].startswith("'")
    assert back["n"].tolist() == [1, 2, 3]
    # no cell of the written file begins with a formula character
    for col in back.columns:
        for v in back[col]:
            assert not (isinstance(v, str) and v.startswith(exports.FORMULA_START)), (col, v)


# ----------------------------------------------------------------------------- charts from the real data


@pytest.fixture(scope="module")
def real_charts(warehouse):
    """Charts the pages draw, built from the embedded data: (name, chart)."""
    out = []
    mv = view(get("robbery"))
    series = mv.series.tail(36).reset_index(drop=True)
    ctrl = (
        stats.monthly_control(mv.series[["month", "count"]], baseline_months=24)
        .tail(36)
        .reset_index(drop=True)
    )
    out.append(("trend", charts.trend_chart(ctrl, "Robbery per month", "Robbery")[0]))
    out.append(("small_trend", charts.small_trend(series.tail(12), "Robbery, last 12 months", "Robbery")[0]))
    robbery = next(r for r in evaluate_all() if r.target.id == "robbery")
    out.append(
        ("trajectory", charts.trajectory_chart(robbery.trajectory, "Robbery against the path", "Robbery")[0])
    )
    out.append(
        (
            "gauge",
            charts.gauge(
                robbery.baseline_value,
                robbery.last12_value,
                robbery.target_value,
                robbery.target.direction,
                "Robbery",
                "on track",
                robbery.path_last12,
            )[0],
        )
    )
    return out


def svg_root(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag in ("svg", "{http://www.w3.org/2000/svg}svg"), root.tag
    return root


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    return struct.unpack(">II", data[16:24])


def test_app_charts_embed_their_data_inline(real_charts):
    for name, chart in real_charts:
        spec = chart.to_dict()
        assert list(exports._data_urls(spec)) == [], name
        assert spec.get("datasets"), f"{name}: data are inline"


def test_chart_svg_is_an_svg_document(real_charts):
    for name, chart in real_charts:
        data = chart_svg(chart)
        assert isinstance(data, bytes)
        root = svg_root(data)
        # "container" width became a real width (vl-convert alone would fall back to a narrow default)
        assert float(root.get("width")) >= exports.EXPORT_WIDTH * 0.9, (name, root.get("width"))
        assert b"<text" in data, f"{name}: labels are text, not paths"


def test_chart_png_has_png_magic_and_scales(real_charts):
    name, chart = real_charts[1]
    one, two = chart_png(chart, scale=1), chart_png(chart)
    w1, h1 = png_size(one)
    w2, h2 = png_size(two)
    assert w1 >= exports.EXPORT_WIDTH * 0.9
    assert abs(w2 - 2 * w1) <= 2 and abs(h2 - 2 * h1) <= 2, "the default scale is 2"


def test_chart_png_width_option(real_charts):
    _, chart = real_charts[1]
    w, _ = png_size(chart_png(chart, scale=1, width=400))
    assert 380 <= w <= 480


@pytest.mark.parametrize("bad", [None, "a chart", 42, {"mark": "bar"}, pd.DataFrame({"a": [1]})])
def test_non_chart_is_a_clear_error(bad):
    for fn in (chart_png, chart_svg):
        with pytest.raises(ChartExportError, match="expected an Altair chart"):
            fn(bad)


def test_builder_tuple_is_a_clear_error(real_charts):
    built = charts.small_trend(
        pd.DataFrame({"month": [date(2025, 1, 1), date(2025, 2, 1)], "count": [3, 4]}), "t", "Robbery"
    )
    with pytest.raises(ChartExportError, match="not the .chart, alt_text, table. tuple"):
        chart_png(built)


@pytest.mark.parametrize("scale", [0, -1, 9, "2", True, float("nan")])
def test_bad_scale_is_refused(real_charts, scale):
    with pytest.raises(ChartExportError, match="scale"):
        chart_png(real_charts[1][1], scale=scale)


@pytest.mark.parametrize("width", [0, 10, 5000, 640.5, "720"])
def test_bad_width_is_refused(real_charts, width):
    with pytest.raises(ChartExportError, match="width"):
        chart_svg(real_charts[1][1], width=width)


def test_a_chart_with_a_data_url_is_refused_without_fetching():
    chart = alt.Chart(alt.UrlData("https://example.invalid/data.csv")).mark_point().encode(x="a:Q")
    for fn in (chart_png, chart_svg):
        with pytest.raises(ChartExportError, match="inline"):
            fn(chart)


def test_vl_convert_itself_refuses_external_data():
    """Even a spec that slipped past the check fetches nothing: no base URL is allowed."""
    import vl_convert as vlc

    spec = {"data": {"url": "https://example.invalid/x.csv"}, "mark": "point"}
    with pytest.raises(ValueError, match="not allowed"):
        vlc.vegalite_to_svg(spec, allowed_base_urls=[])


def _can_unshare_network() -> bool:
    if not shutil.which("unshare"):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not _can_unshare_network(), reason="needs `unshare -n` (root) to cut the network")
def test_conversion_works_with_no_network_at_all(tmp_path):
    """vl-convert fetches no fonts, scripts or data: PNG and SVG are made in a process whose only
    network interface is a downed loopback."""
    script = tmp_path / "offline.py"
    script.write_text(
        "import pandas as pd\n"
        "from datetime import date\n"
        "from csp_data.present import charts\n"
        "from csp_data.present.exports import chart_png, chart_svg\n"
        "df = pd.DataFrame({'month': [date(2025, m, 1) for m in range(1, 7)], 'count': [5, 7, 6, 9, 4, 8]})\n"
        "chart = charts.small_trend(df, 'Offline check', 'Robbery')[0]\n"
        "assert chart_png(chart)[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
        "assert b'<svg' in chart_svg(chart)\n"
        "print('ok')\n"
    )
    res = subprocess.run(
        ["unshare", "-n", sys.executable, str(script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


# ----------------------------------------------------------------------------- download buttons


from csp_data.ui import briefing as ui_briefing  # noqa: E402  (imports streamlit: kept with the tests that use it)
from csp_data.ui import downloads  # noqa: E402


@pytest.mark.parametrize(
    "stem,expected",
    [
        ("Robbery per month", "robbery-per-month"),
        ("Robbery: per month / 2025–26", "robbery-per-month-2025-26"),
        ("../../etc/passwd", "etc-passwd"),
        ("a\\b/c:d", "a-b-c-d"),
        ("Spitalfields & Banglatown", "spitalfields-banglatown"),
        ("Café crime", "cafe-crime"),
        ("", "download"),
        ("///", "download"),
        ("..", "download"),
    ],
)
def test_slug(stem, expected):
    assert downloads.slug(stem) == expected


def test_file_names_have_no_path_separators():
    for stem in ("../x", "a/b", "a\\b", "C:\\Windows\\x", "/abs/path", "x\x00y", "name.with.dots", "a" * 500):
        for ext in ("png", "svg", "csv", "html"):
            name = downloads.file_name(stem, ext)
            assert "/" not in name and "\\" not in name and "\x00" not in name and ":" not in name
            assert name.count(".") == 1 and name.endswith("." + ext)
            assert not name.startswith(".")
            assert len(name) <= downloads.MAX_SLUG + 1 + len(ext)


def test_keys_are_stable_and_distinct():
    assert downloads.key_for("Robbery per month", "png") == downloads.key_for("Robbery per month", "png")
    keys = {
        downloads.key_for(s, k)
        for s in ("Robbery", "robbery", "Robbery!", "Burglary")
        for k in ("png", "svg")
    }
    assert len(keys) == 8


@pytest.fixture
def recorder(monkeypatch):
    calls = []

    def fake(label, data=None, file_name=None, mime=None, key=None, **kwargs):
        calls.append(
            {"label": label, "data": data, "file_name": file_name, "mime": mime, "key": key, **kwargs}
        )
        return False

    monkeypatch.setattr(downloads.st, "download_button", fake)
    return calls


def test_chart_downloads_are_lazy_and_do_not_rerun(real_charts, recorder, monkeypatch):
    made = []
    real_png, real_svg = exports.chart_png, exports.chart_svg
    monkeypatch.setattr(exports, "chart_png", lambda c: made.append("png") or real_png(c))
    monkeypatch.setattr(exports, "chart_svg", lambda c: made.append("svg") or real_svg(c))
    chart = real_charts[1][1]
    table = pd.DataFrame({"Month": ["Jan 2026"], "Robbery": [97], "Note": ["=x"]})
    downloads.chart_downloads(chart, "Robbery, last 12 months", table)
    assert made == [], "nothing is converted while the page is drawn"
    assert [c["file_name"] for c in recorder] == [
        "robbery-last-12-months.png",
        "robbery-last-12-months.svg",
        "robbery-last-12-months.csv",
    ]
    assert [c["mime"] for c in recorder] == ["image/png", "image/svg+xml", "text/csv"]
    assert all(c["on_click"] == "ignore" for c in recorder)
    assert all(callable(c["data"]) for c in recorder)
    assert len({c["key"] for c in recorder}) == 3
    png, svg, csv = (c["data"]() for c in recorder)
    assert made == ["png", "svg"]
    assert png[:8] == PNG_MAGIC
    svg_root(svg)
    assert read_back(csv)["Note"].tolist() == ["'=x"]


def test_chart_downloads_without_a_table_and_same_keys_on_rerun(real_charts, recorder):
    chart = real_charts[0][1]
    downloads.chart_downloads(chart, "Robbery per month")
    first = [c["key"] for c in recorder]
    downloads.chart_downloads(chart, "Robbery per month")
    assert len(first) == 2 and [c["key"] for c in recorder[2:]] == first


def test_chart_downloads_refuse_a_non_chart(recorder):
    with pytest.raises(ChartExportError):
        downloads.chart_downloads("not a chart", "x")
    assert recorder == []


def test_table_download_snapshots_the_frame(recorder):
    df = pd.DataFrame({"ward": ["+Lansbury"], "count": [67]})
    downloads.table_download(df, "TTCG wards / March 2026")
    df.loc[0, "count"] = 0  # the page changing its frame afterwards does not change the download
    (call,) = recorder
    assert call["file_name"] == "ttcg-wards-march-2026.csv" and call["on_click"] == "ignore"
    back = read_back(call["data"]())
    assert back["ward"].tolist() == ["'+Lansbury"] and back["count"].tolist() == [67]
    with pytest.raises(TypeError):
        downloads.table_download([1, 2], "x")


def test_briefing_button_is_lazy(warehouse, recorder, monkeypatch):
    from csp_data.present import briefing

    built = []
    monkeypatch.setattr(
        briefing, "build", lambda month, cfg=None, generated=None: built.append(month) or "<html>"
    )
    ui_briefing.briefing_button("2026-03")
    (call,) = recorder
    assert built == []
    assert call["file_name"] == "csp-briefing-2026-03.html" and call["mime"] == "text/html"
    assert call["on_click"] == "ignore" and "March 2026" in call["label"]
    assert call["data"]() == b"<html>" and built == [date(2026, 3, 1)]


def test_briefing_button_explains_a_bad_month_or_public_mode(warehouse, recorder, monkeypatch):
    said = []
    monkeypatch.setattr(downloads.st, "warning", lambda text, **k: said.append(("warning", text)))
    monkeypatch.setattr(downloads.st, "info", lambda text, **k: said.append(("info", text)))
    ui_briefing.briefing_button("2027-01")
    ui_briefing.briefing_button("2026-13")
    monkeypatch.setenv("CSP_MODE", "public")
    ui_briefing.briefing_button()
    assert recorder == []
    assert said[0][0] == "warning" and "after the latest data" in said[0][1]
    assert said[1][0] == "warning" and "not 01-12" in said[1][1]
    assert said[2][0] == "info" and "internal" in said[2][1]


def test_buttons_render_in_a_streamlit_script(app_env):
    """The real widgets in a script run: no duplicate keys, no exception."""
    from streamlit.testing.v1 import AppTest

    def script():
        from datetime import date

        import pandas as pd

        from csp_data.present import charts
        from csp_data.ui import briefing as ui_briefing
        from csp_data.ui import downloads

        df = pd.DataFrame({"month": [date(2025, m, 1) for m in range(1, 7)], "count": [5, 7, 6, 9, 4, 8]})
        chart, _, table = charts.small_trend(df, "Robbery", "Robbery")
        downloads.chart_downloads(chart, "Robbery", table)
        downloads.chart_downloads(chart, "robbery")
        downloads.table_download(table, "Robbery table")
        ui_briefing.briefing_button("2026-03")

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception, at.exception
    buttons = at.get("download_button")
    assert len(buttons) == 3 + 2 + 1 + 1


def test_targets_page_offers_the_briefing_pack_for_a_chosen_month(app_env):
    """The button in the app: on the Targets page, for the latest month by default, and for the
    month chosen; the pack itself is built only when the button is pressed."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("pages/performance/targets.py").run()
    assert not at.exception, at.exception
    packs = [b for b in at.get("download_button") if "briefing pack" in b.proto.label]
    assert [b.proto.label for b in packs] == ["Download the briefing pack for March 2026 (HTML)"]
    at.selectbox(key="pack_month").select(date(2025, 12, 1)).run()
    packs = [b for b in at.get("download_button") if "briefing pack" in b.proto.label]
    assert [b.proto.label for b in packs] == ["Download the briefing pack for December 2025 (HTML)"]
