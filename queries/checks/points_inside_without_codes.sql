-- Point records placed inside the borough that still lack a ward or LSOA code.
-- params: none
-- columns: table_name, n
-- example: {}
SELECT 'street_crime' AS table_name, count(*) AS n FROM street_crime
WHERE geo_status = 'inside' AND (ward_code IS NULL OR lsoa21_code IS NULL) HAVING count(*) > 0
UNION ALL
SELECT 'stop_search', count(*) FROM stop_search
WHERE geo_status = 'inside' AND (ward_code IS NULL OR lsoa21_code IS NULL) HAVING count(*) > 0
