-- MPS business crime offences in one borough over a period, by MPS major category.
-- params: borough_name (VARCHAR), start (DATE), end (DATE)
-- columns: major_category, count, months
-- example: {"borough_name": "Tower Hamlets", "start": "2024-04-01", "end": "2025-03-01"}
SELECT major_category, sum(count)::BIGINT AS count, count(DISTINCT month)::BIGINT AS months
FROM business_crime_monthly
WHERE borough_name = $borough_name AND month BETWEEN $start AND $end
GROUP BY major_category
ORDER BY count DESC, major_category
