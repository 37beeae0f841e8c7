-- Offences per London borough for a measure over a period, ranked (1 = most offences).
-- Pseudo-boroughs (airports, "Unknown") are excluded. Counts, not rates: the warehouse holds
-- population only for the configured borough.
-- params: majors (VARCHAR[]), minors (VARCHAR[]), start (DATE), end (DATE)
-- columns: borough_code, borough_name, count, rank, boroughs
-- example: {"majors": ["ROBBERY"], "minors": [], "start": "2025-03-01", "end": "2026-02-01"}
WITH per AS (
    SELECT borough_code, any_value(borough_name) AS borough_name, sum(count)::BIGINT AS count
    FROM crime_monthly
    WHERE level = 'borough' AND borough_code IS NOT NULL
      AND month BETWEEN $start AND $end
      AND in_categories(major_category, minor_category, $majors, $minors)
    GROUP BY borough_code
)
SELECT borough_code, borough_name, count,
       rank() OVER (ORDER BY count DESC)::INTEGER AS rank,
       count(*) OVER ()::INTEGER AS boroughs
FROM per
ORDER BY rank, borough_name
