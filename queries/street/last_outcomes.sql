-- Last outcome categories of police.uk street-level records of one type in a period, optionally in
-- one ward (NULL = the whole borough). A blank outcome is reported as 'No outcome published'.
-- params: crime_type (VARCHAR), start (DATE), end (DATE), ward_code (VARCHAR)
-- columns: last_outcome, records
-- example: {"crime_type": "Burglary", "start": "2024-03-01", "end": "2025-02-01", "ward_code": null}
SELECT coalesce(nullif(trim(last_outcome), ''), 'No outcome published') AS last_outcome,
       count(*)::BIGINT AS records
FROM street_crime
WHERE crime_type = $crime_type AND month BETWEEN $start AND $end
  AND geo_status = 'inside'
  AND ($ward_code IS NULL OR ward_code = $ward_code)
GROUP BY 1
ORDER BY records DESC, last_outcome
