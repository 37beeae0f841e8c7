-- Ward or LSOA codes in the crime tables that are not in the geography tables.
-- params: none
-- columns: source, code
-- example: {}
SELECT DISTINCT 'crime_monthly ward' AS source, area_code AS code FROM crime_monthly
WHERE level = 'ward' AND area_code NOT IN (SELECT ward_code FROM wards)
UNION ALL
SELECT DISTINCT 'crime_monthly lsoa', area_code FROM crime_monthly
WHERE level = 'lsoa' AND area_code NOT IN (SELECT lsoa21_code FROM lsoas)
UNION ALL
SELECT DISTINCT 'street_crime lsoa21', lsoa21_code FROM street_crime
WHERE lsoa21_code IS NOT NULL AND lsoa21_code NOT IN (SELECT lsoa21_code FROM lsoas)
UNION ALL
SELECT DISTINCT 'street_crime ward', ward_code FROM street_crime
WHERE ward_code IS NOT NULL AND ward_code NOT IN (SELECT ward_code FROM wards)
UNION ALL
SELECT DISTINCT 'stop_search ward', ward_code FROM stop_search
WHERE ward_code IS NOT NULL AND ward_code NOT IN (SELECT ward_code FROM wards)
