-- Monthly offences per ward or LSOA (2021) of the configured borough for MPS categories ($level: 'ward' or 'lsoa').
-- One row per area and month that the data at that level cover within start..end, 0 where none were recorded;
-- months the extracts at that level do not cover (LSOA data start in August 2023) are absent, never 0.
-- The areas are every ward or LSOA the crime data hold for the borough at that level (the same 20 wards and
-- 169 LSOAs as the wards and lsoas tables); taking them from crime_monthly lets the ward level run in public
-- mode too, which has no lsoas table. Area names: meta/wards, or hotspots/lsoa_period_counts.
-- params: level (VARCHAR), borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: area_code, month, count
-- example: {"level": "lsoa", "borough_code": "E09000030", "majors": ["ROBBERY"], "minors": [], "start": "2025-03-01", "end": "2026-02-01"}
WITH areas AS (
    SELECT DISTINCT area_code
    FROM crime_monthly
    WHERE level = $level AND borough_code = $borough_code
), months AS (
    SELECT DISTINCT month
    FROM crime_monthly
    WHERE level = $level AND borough_code = $borough_code AND month BETWEEN $start AND $end
), hits AS (
    SELECT area_code, month, sum(count) AS count
    FROM crime_monthly
    WHERE level = $level AND borough_code = $borough_code AND month BETWEEN $start AND $end
      AND in_categories(major_category, minor_category, $majors, $minors)
    GROUP BY area_code, month
)
SELECT a.area_code, m.month, coalesce(h.count, 0)::BIGINT AS count
FROM areas AS a
CROSS JOIN months AS m
LEFT JOIN hits AS h ON h.area_code = a.area_code AND h.month = m.month
ORDER BY a.area_code, m.month
