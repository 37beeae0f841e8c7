-- Monthly offences in every ward of the configured borough for one TTCG category (its MPS majors/minors),
-- for each month the ward data cover within start..end, 0 where none were recorded. Months the ward
-- extracts do not cover are absent, never 0. One row per ward and covered month.
-- params: borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: ward_code, ward_name, month, count
-- example: {"borough_code": "E09000030", "majors": ["ROBBERY"], "minors": [], "start": "2025-03-01", "end": "2026-03-01"}
WITH months AS (
    SELECT DISTINCT month
    FROM crime_monthly
    WHERE level = 'ward' AND borough_code = $borough_code AND month BETWEEN $start AND $end
), hits AS (
    SELECT area_code, month, sum(count) AS count
    FROM crime_monthly
    WHERE level = 'ward' AND borough_code = $borough_code AND month BETWEEN $start AND $end
      AND (list_contains($majors, major_category) OR list_contains($minors, minor_category))
    GROUP BY area_code, month
)
SELECT w.ward_code, w.ward_name, m.month, coalesce(h.count, 0)::BIGINT AS count
FROM wards AS w
CROSS JOIN months AS m
LEFT JOIN hits AS h ON h.area_code = w.ward_code AND h.month = m.month
ORDER BY w.ward_code, m.month
