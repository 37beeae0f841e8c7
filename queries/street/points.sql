-- police.uk street-level records of one crime type in a period (snap-point locations), optionally
-- in one ward (NULL = the whole borough). Records without a location are left out by the caller's map.
-- params: crime_type (VARCHAR), start (DATE), end (DATE), ward_code (VARCHAR)
-- columns: month, longitude, latitude, ward_code, lsoa21_code, last_outcome
-- example: {"crime_type": "Burglary", "start": "2025-02-01", "end": "2026-01-01", "ward_code": null}
SELECT month, longitude, latitude, ward_code, lsoa21_code, last_outcome
FROM street_crime
WHERE crime_type = $crime_type AND month BETWEEN $start AND $end
  AND geo_status = 'inside'
  AND ($ward_code IS NULL OR ward_code = $ward_code)
ORDER BY month, longitude, latitude
