-- Months of police.uk street-level records held for one crime type in the borough.
-- params: crime_type (VARCHAR)
-- columns: first_month, last_month, months, records
-- example: {"crime_type": "Burglary"}
SELECT min(month) AS first_month, max(month) AS last_month, count(DISTINCT month)::BIGINT AS months,
       count(*)::BIGINT AS records
FROM street_crime
WHERE crime_type = $crime_type AND geo_status = 'inside'
