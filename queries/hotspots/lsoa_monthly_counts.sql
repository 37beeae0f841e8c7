-- Monthly offences per LSOA (2021) of the configured borough for MPS categories, for emerging hot spots.
-- One row per LSOA and month that the LSOA data cover within start..end (0 where none were recorded);
-- months the LSOA extracts do not cover (before August 2023, or after the latest) are absent, never 0.
-- params: borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: lsoa21_code, month, count
-- example: {"borough_code": "E09000030", "majors": ["ROBBERY"], "minors": [], "start": "2025-03-01", "end": "2026-02-01"}
WITH months AS (
    SELECT DISTINCT month
    FROM crime_monthly
    WHERE level = 'lsoa' AND borough_code = $borough_code AND month BETWEEN $start AND $end
), hits AS (
    SELECT area_code, month, sum(count) AS count
    FROM crime_monthly
    WHERE level = 'lsoa' AND borough_code = $borough_code AND month BETWEEN $start AND $end
      AND (list_contains($majors, major_category) OR list_contains($minors, minor_category))
    GROUP BY area_code, month
)
SELECT l.lsoa21_code, m.month, coalesce(h.count, 0)::BIGINT AS count
FROM lsoas AS l
CROSS JOIN months AS m
LEFT JOIN hits AS h ON h.area_code = l.lsoa21_code AND h.month = m.month
ORDER BY m.month, l.lsoa21_code
