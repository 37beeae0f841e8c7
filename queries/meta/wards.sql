-- The wards of the configured borough (2022 boundaries) with Census 2021 usual residents.
-- params: none
-- columns: ward_code, ward_name, population
-- example: {}
SELECT ward_code, ward_name, population FROM wards ORDER BY ward_name
