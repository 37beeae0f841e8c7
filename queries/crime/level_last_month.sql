-- The latest month held at a level (borough or ward) for the configured borough.
-- params: level (VARCHAR), borough_code (VARCHAR)
-- columns: last_month
-- example: {"level": "ward", "borough_code": "E09000030"}
SELECT max(month) AS last_month
FROM crime_monthly
WHERE level = $level AND borough_code = $borough_code
