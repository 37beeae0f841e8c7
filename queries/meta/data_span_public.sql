-- First and latest month of each aggregate dataset (the tables a public deployment may read:
-- no street-level or stop-and-search records, no LSOA rows).
-- params: borough_code (VARCHAR)
-- columns: dataset, first_month, last_month, months, snapshot
-- example: {"borough_code": "E09000030"}
SELECT 'crime_' || level AS dataset, min(month) AS first_month, max(month) AS last_month,
       count(DISTINCT month)::INTEGER AS months, arg_max(snapshot, month) AS snapshot
FROM crime_monthly WHERE borough_code = $borough_code AND level IN ('borough', 'ward') GROUP BY level
UNION ALL
SELECT 'dashboard', min(month), max(month), count(DISTINCT month)::INTEGER, arg_max(snapshot, month) FROM dashboard_monthly
UNION ALL
SELECT 'business_crime', min(month), max(month), count(DISTINCT month)::INTEGER, arg_max(snapshot, month)
FROM business_crime_monthly WHERE borough_name = (SELECT borough_name FROM boroughs WHERE borough_code = $borough_code)
ORDER BY dataset
