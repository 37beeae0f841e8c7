-- Missing months inside each crime level's span for the configured borough (a gap would be
-- shown as missing, never as zero, but the embedded extracts have none).
-- params: borough_code (VARCHAR)
-- columns: level, month
-- example: {"borough_code": "E09000030"}
WITH span AS (
    SELECT level, min(month) AS lo, max(month) AS hi FROM crime_monthly
    WHERE borough_code = $borough_code GROUP BY level
), expected AS (
    SELECT level, unnest(generate_series(lo, hi, INTERVAL 1 MONTH))::DATE AS month FROM span
)
SELECT e.level, e.month FROM expected AS e
WHERE NOT EXISTS (SELECT 1 FROM crime_monthly AS c
                  WHERE c.level = e.level AND c.month = e.month AND c.borough_code = $borough_code)
ORDER BY e.level, e.month
