"""Measures built from other measures: a signed sum, month by month, over the months every part holds.

Serious violence (``csp_data.plan.measures``) is the one such measure: MPS recorded HOMICIDE + VIOLENCE
WITH INJURY, plus the knife crime the MPS Monthly Crime Dashboard counts that is *not* in those two
categories (knife crime minus knife crime with injury, plus knife crime with injury in personal
robberies). Each part keeps its own source; a month is held only when every part holds it (missing
is never zero), and the snapshot names every part's snapshot for that month.
"""

from __future__ import annotations

import pandas as pd

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.measures import Measure, get
from csp_data.plan.periods import Period


def signed_sum(
    parts: list[tuple[int, pd.DataFrame]], keys: list[str], carry: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Sum ``count`` of each frame times its sign over ``keys`` rows present in every frame; ``carry``
    columns are taken from the first frame and ``snapshot`` (when present) joined across parts."""
    out: pd.DataFrame | None = None
    snaps = []
    for i, (sign, df) in enumerate(parts):
        keep = keys + ["count"] + (["snapshot"] if "snapshot" in df else []) + (list(carry) if i == 0 else [])
        d = df[keep].rename(columns={"count": f"c{i}", "snapshot": f"s{i}"})
        d[f"c{i}"] = d[f"c{i}"].astype("int64") * sign
        if f"s{i}" in d:
            snaps.append(f"s{i}")
        out = d if out is None else out.merge(d, on=keys, how="inner")
    if out is None:
        raise ValueError("signed_sum needs at least one part")
    counts = [c for c in out.columns if c.startswith("c") and c[1:].isdigit()]
    res = out[keys + list(carry)].copy()
    res["count"] = out[counts].sum(axis=1).astype("int64")
    if snaps:
        res["snapshot"] = [
            "; ".join(dict.fromkeys(str(v) for v in row)) for row in out[snaps].itertuples(index=False)
        ]
    return res.sort_values(keys).reset_index(drop=True)


def monthly(m: Measure, cfg: Settings | None = None) -> pd.DataFrame:
    """month, count, snapshot of a composite measure in the configured borough."""
    from csp_data.analysis.scorecard import monthly_series

    cfg = cfg or get_settings()
    return signed_sum([(sign, monthly_series(get(pid), cfg)) for pid, sign in m.parts], ["month"])


def breakdown(m: Measure, period: Period, cfg: Settings | None = None) -> pd.DataFrame:
    """category, count, months: each row of ``m.part_labels`` (signed parts merged into one row)."""
    from csp_data.analysis.scorecard import monthly_series

    cfg = cfg or get_settings()
    rows = []
    for label, part_ids in m.part_labels:
        series = [(sign, monthly_series(get(pid), cfg)) for pid, sign in m.parts if pid in part_ids]
        s = signed_sum(series, ["month"])
        s = s[(s.month >= period.start) & (s.month <= period.end)]
        rows.append({"category": label, "count": int(s["count"].sum()), "months": len(s)})
    return pd.DataFrame(rows, columns=["category", "count", "months"])
