-- Crime cells that appear more than once (a level, area, month and category must be unique:
-- overlapping snapshots are resolved to one).
-- params: none
-- columns: level, area_name, month, major_category, minor_category, n
-- example: {}
SELECT level, area_name, month, major_category, minor_category, count(*) AS n
FROM crime_monthly
GROUP BY level, area_name, month, major_category, minor_category
HAVING count(*) > 1
