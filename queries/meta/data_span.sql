-- First and latest month in the warehouse for each dataset actually used (after precedence).
-- params: borough_code (VARCHAR)
-- columns: dataset, first_month, last_month, months, snapshot
-- example: {"borough_code": "E09000030"}
SELECT 'crime_' || level AS dataset, min(month) AS first_month, max(month) AS last_month,
       count(DISTINCT month)::INTEGER AS months, arg_max(snapshot, month) AS snapshot
FROM crime_monthly WHERE borough_code = $borough_code GROUP BY level
UNION ALL
SELECT 'dashboard', min(month), max(month), count(DISTINCT month)::INTEGER, arg_max(snapshot, month) FROM dashboard_monthly
UNION ALL
SELECT 'business_crime', min(month), max(month), count(DISTINCT month)::INTEGER, arg_max(snapshot, month)
FROM business_crime_monthly WHERE borough_name = (SELECT borough_name FROM boroughs WHERE borough_code = $borough_code)
UNION ALL
SELECT 'street_crime', min(month), max(month), count(DISTINCT month)::INTEGER, arg_max(snapshot, month) FROM street_crime
UNION ALL
SELECT 'stop_search', min(month), max(month), count(DISTINCT month)::INTEGER, arg_max(snapshot, month) FROM stop_search
ORDER BY dataset
