-- Offences per LSOA (2021) of the configured borough for MPS categories over a period, for hot-spot maps.
-- Every LSOA of the borough appears, with 0 where none were recorded. LSOA data start in August 2023,
-- and LSOAs add up to less than the borough (crimes that cannot be placed drop out at finer levels).
-- params: borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: lsoa21_code, lsoa21_name, ward_code, population, count
-- example: {"borough_code": "E09000030", "majors": ["ROBBERY"], "minors": [], "start": "2025-03-01", "end": "2026-02-01"}
SELECT l.lsoa21_code, l.lsoa21_name, l.ward_code, l.population,
       coalesce(sum(c.count), 0)::BIGINT AS count
FROM lsoas AS l
LEFT JOIN crime_monthly AS c
  ON c.level = 'lsoa' AND c.area_code = l.lsoa21_code AND c.borough_code = $borough_code
 AND c.month BETWEEN $start AND $end
 AND in_categories(c.major_category, c.minor_category, $majors, $minors)
GROUP BY l.lsoa21_code, l.lsoa21_name, l.ward_code, l.population
ORDER BY l.lsoa21_code
