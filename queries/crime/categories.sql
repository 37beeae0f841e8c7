-- MPS major and minor categories present at a geographic level, with the harmonised offence group.
-- params: level (VARCHAR)
-- columns: major_category, minor_category, offence_group, first_month, last_month
-- example: {"level": "ward"}
SELECT major_category, minor_category, any_value(offence_group) AS offence_group,
       min(month) AS first_month, max(month) AS last_month
FROM crime_monthly
WHERE level = $level
GROUP BY major_category, minor_category
ORDER BY major_category, minor_category
