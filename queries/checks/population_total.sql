-- Ward populations must add up to the LSOA populations (Census 2021 usual residents).
-- params: none
-- columns: wards_total, lsoas_total
-- example: {}
SELECT (SELECT sum(population) FROM wards) AS wards_total, (SELECT sum(population) FROM lsoas) AS lsoas_total
WHERE (SELECT sum(population) FROM wards) <> (SELECT sum(population) FROM lsoas)
