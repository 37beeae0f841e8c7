-- Monthly offences by MPS major category in every ward of the configured borough, for the pooled ward
-- dispersion behind the ward profile's change verdicts. Only months the ward data cover within
-- start..end appear (others are absent, never 0); within them a ward with none in a category counts 0.
-- params: borough_code (VARCHAR), start (DATE), end (DATE)
-- columns: ward_code, major_category, month, count
-- example: {"borough_code": "E09000030", "start": "2023-03-01", "end": "2026-02-01"}
WITH cells AS (
    SELECT area_code, major_category, month, sum(count) AS count
    FROM crime_monthly
    WHERE level = 'ward' AND borough_code = $borough_code AND month BETWEEN $start AND $end
    GROUP BY area_code, major_category, month
), months AS (
    SELECT DISTINCT month FROM cells
), majors AS (
    SELECT DISTINCT major_category FROM cells
)
SELECT w.ward_code, j.major_category, m.month, coalesce(c.count, 0)::BIGINT AS count
FROM wards AS w
CROSS JOIN months AS m
CROSS JOIN majors AS j
LEFT JOIN cells AS c ON c.area_code = w.ward_code AND c.month = m.month AND c.major_category = j.major_category
ORDER BY w.ward_code, j.major_category, m.month
