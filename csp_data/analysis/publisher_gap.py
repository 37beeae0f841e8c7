"""Two publishers, two counts: police.uk street-level records beside MPS recorded crime.

Where the same month and category are published by both (the two all-crime police.uk months held,
Feb 2025 and Jan 2026, against the MPS borough file), the figures differ by a few offences. This
module puts them side by side and says why (docs/STATISTICS.md section 8):

* **Extraction dates.** Each file is a snapshot. police.uk's monthly file is extracted when it is
  published, about a month after the month ends; the MPS borough file holding the same month is a
  later extract, so crimes recorded late, reclassified or cancelled ("no-crimed") since differ.
* **Location.** police.uk places each crime at an anonymised snap point and publishes only crimes
  it can place; the embedded extract keeps rows whose LSOA is in the borough, so a crime snapped
  across the boundary, or with no location, is not in it, while the MPS counts it by the borough
  that recorded it.
* **Categories.** police.uk's 14 categories are not the MPS's: this table only pairs categories
  that correspond (police.uk's four theft types against MPS THEFT).

Also the anti-social behaviour held: police.uk publishes ASB incidents (not crimes) in the same
files, and the two all-crime months held include them.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.plan.measures import get
from csp_data.warehouse import sql

ASB = "Anti-social behaviour"
# police.uk crime types -> the measure (MPS categories) they correspond to.
PAIRS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("robbery", ("Robbery",)),
    ("burglary", ("Burglary",)),
    ("theft", ("Bicycle theft", "Other theft", "Shoplifting", "Theft from the person")),
    ("vehicle", ("Vehicle crime",)),
    ("weapons", ("Possession of weapons",)),
)
WHY = (
    "They differ because (1) each is a snapshot taken on a different date: the police.uk file is extracted "
    "when the month is first published and the MPS file later, so crimes recorded late, reclassified or "
    "cancelled since are in one and not the other; (2) police.uk publishes each crime at an anonymised snap "
    "point and this extract keeps the points inside the borough, so a crime snapped over the boundary or "
    "published without a location is missing from it; (3) the categories are paired as closely as the two "
    "publishers allow (police.uk's four theft types against MPS theft)."
)


def street_counts(cfg: Settings | None = None) -> pd.DataFrame:
    """month (date), crime_type, records, distinct_lines, inside, outside, no_location."""
    df = sql.run("street/type_month_counts", cfg=cfg)
    df["month"] = pd.to_datetime(df["month"]).dt.date
    return df


def all_crime_months(counts: pd.DataFrame | None = None) -> list[date]:
    """Months for which police.uk all-crime records (not just burglary) are held."""
    c = street_counts() if counts is None else counts
    other = c[c.crime_type != "Burglary"]
    return sorted(set(other["month"]))


def asb_summary(counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """month, records, distinct_lines, inside: the anti-social behaviour records held."""
    c = street_counts() if counts is None else counts
    a = c[c.crime_type == ASB]
    return a[["month", "records", "distinct_lines", "inside"]].reset_index(drop=True)


def compare(cfg: Settings | None = None, counts: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per month held by both publishers and paired category: month, measure_id, category,
    police_uk_types, police_uk, mps, difference (MPS minus police.uk), mps_snapshot, police_uk_snapshot."""
    from csp_data.analysis.scorecard import monthly_series

    cfg = cfg or get_settings()
    c = street_counts(cfg) if counts is None else counts
    months = all_crime_months(c)
    rows = []
    for mid, types in PAIRS:
        m = get(mid)
        mps = monthly_series(m, cfg).set_index("month")
        for month in months:
            sub = c[(c.month == month) & c.crime_type.isin(types)]
            if month not in mps.index or sub.empty:
                continue
            pu = int(sub["records"].sum())
            mp = int(mps.loc[month, "count"])
            rows.append(
                {
                    "month": month,
                    "measure_id": mid,
                    "category": m.label,
                    "police_uk_types": ", ".join(types),
                    "police_uk": pu,
                    "mps": mp,
                    "difference": mp - pu,
                    "mps_snapshot": str(mps.loc[month, "snapshot"]),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "month",
            "measure_id",
            "category",
            "police_uk_types",
            "police_uk",
            "mps",
            "difference",
            "mps_snapshot",
        ],
    )
