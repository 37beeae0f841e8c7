-- Offences in one borough over a period for a measure's MPS categories, split by minor category.
-- params: borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: major_category, minor_category, count, months
-- example: {"borough_code": "E09000030", "majors": ["THEFT"], "minors": [], "start": "2024-04-01", "end": "2025-03-01"}
SELECT major_category, minor_category, sum(count)::BIGINT AS count, count(DISTINCT month)::BIGINT AS months
FROM crime_monthly
WHERE level = 'borough' AND borough_code = $borough_code
  AND month BETWEEN $start AND $end
  AND in_categories(major_category, minor_category, $majors, $minors)
GROUP BY major_category, minor_category
ORDER BY count DESC, minor_category
