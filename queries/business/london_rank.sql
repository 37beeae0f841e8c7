-- Business crime offences per London borough over a period, ranked (1 = most offences).
-- params: sections (VARCHAR[]), start (DATE), end (DATE)
-- columns: borough_name, count, rank, boroughs
-- example: {"sections": [], "start": "2024-08-01", "end": "2025-07-01"}
WITH per AS (
    SELECT borough_name, sum(count)::BIGINT AS count
    FROM business_crime_monthly
    WHERE month BETWEEN $start AND $end
      AND borough_name IN (SELECT borough_name FROM boroughs)
      AND (len($sections) = 0 OR list_contains($sections, major_category))
    GROUP BY borough_name
)
SELECT borough_name, count,
       rank() OVER (ORDER BY count DESC)::INTEGER AS rank,
       count(*) OVER ()::INTEGER AS boroughs
FROM per
ORDER BY rank, borough_name
