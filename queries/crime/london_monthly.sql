-- Monthly police-recorded offences for a measure summed over the 32 London boroughs the MPS polices
-- (pseudo-boroughs such as Heathrow left out), for the London comparison. boroughs = boroughs with
-- any row that month (32 when London is complete); months no extract covers are absent.
-- params: majors (VARCHAR[]), minors (VARCHAR[])
-- columns: month, count, boroughs, snapshot
-- example: {"majors": [], "minors": ["VIOLENCE WITH INJURY"]}
WITH rows AS (
    SELECT month, borough_code, major_category, minor_category, count, snapshot
    FROM crime_monthly
    WHERE level = 'borough' AND borough_code IN (SELECT borough_code FROM boroughs)
)
SELECT month,
       coalesce(sum(count) FILTER (WHERE in_categories(major_category, minor_category, $majors, $minors)), 0)::BIGINT AS count,
       count(DISTINCT borough_code)::INTEGER AS boroughs,
       any_value(snapshot) AS snapshot
FROM rows
GROUP BY month
ORDER BY month
