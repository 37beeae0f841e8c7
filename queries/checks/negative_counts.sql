-- Negative counts anywhere in the aggregate tables.
-- params: none
-- columns: table_name, n
-- example: {}
SELECT 'crime_monthly' AS table_name, count(*) AS n FROM crime_monthly WHERE count < 0 HAVING count(*) > 0
UNION ALL
SELECT 'dashboard_monthly', count(*) FROM dashboard_monthly WHERE count < 0 HAVING count(*) > 0
UNION ALL
SELECT 'business_crime_monthly', count(*) FROM business_crime_monthly WHERE count < 0 HAVING count(*) > 0
