-- Offences per ward of the configured borough for MPS categories over a period.
-- params: borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: ward_code, ward_name, population, count
-- example: {"borough_code": "E09000030", "majors": [], "minors": ["VIOLENCE WITH INJURY"], "start": "2025-04-01", "end": "2026-03-01"}
SELECT w.ward_code, w.ward_name, w.population,
       coalesce(sum(c.count), 0)::BIGINT AS count
FROM wards AS w
LEFT JOIN crime_monthly AS c
  ON c.level = 'ward' AND c.area_code = w.ward_code AND c.borough_code = $borough_code
 AND c.month BETWEEN $start AND $end
 AND in_categories(c.major_category, c.minor_category, $majors, $minors)
GROUP BY w.ward_code, w.ward_name, w.population
ORDER BY count DESC, w.ward_code
