-- Offences by MPS major category over a period at one level for one area (borough or ward),
-- with the number of months that area's data covers in the period.
-- params: level (VARCHAR), area_code (VARCHAR), start (DATE), end (DATE)
-- columns: major_category, count, months
-- example: {"level": "ward", "area_code": "E05009333", "start": "2025-03-01", "end": "2026-02-01"}
WITH covered AS (
    SELECT count(DISTINCT month)::BIGINT AS months
    FROM crime_monthly
    WHERE level = $level AND area_code = $area_code AND month BETWEEN $start AND $end
)
SELECT c.major_category, sum(c.count)::BIGINT AS count, any_value(covered.months) AS months
FROM crime_monthly AS c, covered
WHERE c.level = $level AND c.area_code = $area_code AND c.month BETWEEN $start AND $end
GROUP BY c.major_category
ORDER BY count DESC, c.major_category
