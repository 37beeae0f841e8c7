-- Stop-and-search records in a period per ward of the borough (every ward listed, 0 where none), with Census 2021 residents.
-- params: start (DATE), end (DATE)
-- columns: ward_code, ward_name, population, searches
-- example: {"start": "2023-09-01", "end": "2024-08-01"}
SELECT w.ward_code, w.ward_name, w.population, count(s.ward_code)::BIGINT AS searches
FROM wards AS w
LEFT JOIN stop_search AS s
  ON s.ward_code = w.ward_code AND s.month BETWEEN $start AND $end
GROUP BY w.ward_code, w.ward_name, w.population
ORDER BY searches DESC, w.ward_code
