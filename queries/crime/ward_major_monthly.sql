-- Monthly offences in one ward by MPS major category between two months (ward-level MPS data).
-- Months the ward extract covers but with no offences in a category are absent: callers fill 0
-- only within months the ward data covers (see crime/ward_months).
-- params: ward_code (VARCHAR), start (DATE), end (DATE)
-- columns: month, major_category, count
-- example: {"ward_code": "E05009333", "start": "2024-03-01", "end": "2026-02-01"}
SELECT month, major_category, sum(count)::BIGINT AS count
FROM crime_monthly
WHERE level = 'ward' AND area_code = $ward_code AND month BETWEEN $start AND $end
GROUP BY month, major_category
ORDER BY month, major_category
