-- police.uk street-level records held per month and crime type (every type, including
-- Anti-social behaviour), split by where they were placed: inside the borough, outside it (the
-- snap point fell over the boundary) or with no location published. distinct_lines counts rows
-- that differ in any published field: police.uk gives ASB no Crime ID, so identical lines (same
-- snap point, same month) may be separate incidents and are kept as published.
-- params: none
-- columns: month, crime_type, records, distinct_lines, inside, outside, no_location
-- example: {}
SELECT month, crime_type, count(*)::BIGINT AS records,
       count(DISTINCT (coalesce(crime_id, ''), longitude, latitude, location, lsoa_code_published,
                       coalesce(last_outcome, '')))::BIGINT AS distinct_lines,
       count(*) FILTER (WHERE geo_status = 'inside')::BIGINT AS inside,
       count(*) FILTER (WHERE geo_status = 'outside')::BIGINT AS outside,
       count(*) FILTER (WHERE geo_status = 'no_location')::BIGINT AS no_location
FROM street_crime
GROUP BY month, crime_type
ORDER BY month, crime_type
