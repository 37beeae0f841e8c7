-- Locations of stop-and-search records in a period (police.uk anonymised snap points; NULL where a record has no location), for a hex-binned density map.
-- params: start (DATE), end (DATE), ward_code (VARCHAR)
-- columns: longitude, latitude
-- example: {"start": "2023-09-01", "end": "2024-08-01", "ward_code": ""}
SELECT longitude, latitude
FROM stop_search
WHERE month BETWEEN $start AND $end
  AND ($ward_code = '' OR ward_code = $ward_code)
ORDER BY searched_at, source_file, source_row
