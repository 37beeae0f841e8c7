"""Serious violence counted independently of csp_data (shared by the report, targets and measure
tests): one DuckDB query over the warehouse parquet files, with the categories written out here.

Serious violence = MPS recorded HOMICIDE + VIOLENCE WITH INJURY (borough rows) + dashboard knife
crime offences - knife crime with injury offences + knife crime with injury (personal robbery)
offences, for the months both sources hold (a dashboard month is held when a file publishing knife
crime has a row for the borough that month)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

TH_CODE = "E09000030"


def independent_serious_violence(warehouse: Path, area: str = TH_CODE) -> dict[date, int]:
    crime = (warehouse / "crime_monthly.parquet").as_posix()
    dash = (warehouse / "dashboard_monthly.parquet").as_posix()
    sql = f"""
    WITH c AS (
        SELECT month, sum(CASE WHEN minor_category IN ('HOMICIDE', 'VIOLENCE WITH INJURY') THEN count ELSE 0 END) AS n
        FROM read_parquet('{crime}') WHERE level = 'borough' AND borough_code = $area GROUP BY month
    ), files AS (
        SELECT DISTINCT source_file FROM read_parquet('{dash}') WHERE area_code = $area AND crime_type = 'Knife Crime'
    ), k AS (
        SELECT month, sum(CASE
            WHEN crime_type = 'Knife Crime' AND measure = 'Offences' AND crime_subtype = 'Knife Crime' THEN count
            WHEN crime_type = 'Knife Crime' AND measure = 'Offences' AND crime_subtype = 'Knife Crime with Injury' THEN -count
            WHEN crime_type = 'Knife Crime' AND measure = 'Offences'
                 AND crime_subtype = 'Knife Crime with Injury (Personal Robbery)' THEN count
            ELSE 0 END) AS n
        FROM read_parquet('{dash}') WHERE area_code = $area AND source_file IN (SELECT source_file FROM files)
        GROUP BY month
    )
    SELECT c.month, c.n + k.n FROM c JOIN k USING (month) ORDER BY c.month
    """
    con = duckdb.connect()
    try:
        return {m: int(n) for m, n in con.execute(sql, {"area": area}).fetchall()}
    finally:
        con.close()
