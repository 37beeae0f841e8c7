-- Monthly MPS business crime offences summed over the 32 London boroughs (all crime sections when
-- sections is empty), for the London comparison. boroughs = boroughs with any row that month.
-- params: sections (VARCHAR[])
-- columns: month, count, boroughs, snapshot
-- example: {"sections": []}
WITH rows AS (
    SELECT month, borough_name, major_category, count, snapshot
    FROM business_crime_monthly
    WHERE borough_name IN (SELECT borough_name FROM boroughs)
)
SELECT month,
       coalesce(sum(count) FILTER (WHERE len($sections) = 0 OR list_contains($sections, major_category)), 0)::BIGINT AS count,
       count(DISTINCT borough_name)::INTEGER AS boroughs,
       any_value(snapshot) AS snapshot
FROM rows
GROUP BY month
ORDER BY month
