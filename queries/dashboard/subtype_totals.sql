-- MPS Monthly Crime Dashboard totals for one area and crime type over a period, by subtype and measure
-- (e.g. hate crime by strand, offences and positive outcomes). months = months with a row.
-- params: area_code (VARCHAR), crime_type (VARCHAR), start (DATE), end (DATE)
-- columns: crime_subtype, measure, count, months
-- example: {"area_code": "E09000030", "crime_type": "Hate crime", "start": "2024-04-01", "end": "2025-03-01"}
SELECT crime_subtype, measure, sum(count)::BIGINT AS count, count(DISTINCT month)::BIGINT AS months
FROM dashboard_monthly
WHERE area_code = $area_code AND crime_type = $crime_type
  AND month BETWEEN $start AND $end
GROUP BY crime_subtype, measure
ORDER BY measure, count DESC, crime_subtype
