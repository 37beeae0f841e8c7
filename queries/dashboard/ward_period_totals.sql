-- MPS Monthly Crime Dashboard values per ward of the borough over a period (wards with none count 0).
-- params: crime_type (VARCHAR), crime_subtype (VARCHAR), measure (VARCHAR), start (DATE), end (DATE)
-- columns: ward_code, ward_name, population, count
-- example: {"crime_type": "Knife Crime", "crime_subtype": "Knife Crime", "measure": "Offences", "start": "2024-04-01", "end": "2025-03-01"}
SELECT w.ward_code, w.ward_name, w.population, coalesce(sum(d.count), 0)::BIGINT AS count
FROM wards AS w
LEFT JOIN dashboard_monthly AS d
  ON d.area_level = 'ward' AND d.area_code = w.ward_code
 AND d.crime_type = $crime_type AND d.crime_subtype = $crime_subtype AND d.measure = $measure
 AND d.month BETWEEN $start AND $end
GROUP BY w.ward_code, w.ward_name, w.population
ORDER BY count DESC, w.ward_code
