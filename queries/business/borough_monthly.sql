-- Monthly MPS business crime offences in one borough (all crime sections when sections is empty).
-- params: borough_name (VARCHAR), sections (VARCHAR[])
-- columns: month, count, snapshot
-- example: {"borough_name": "Tower Hamlets", "sections": []}
WITH months AS (
    SELECT month, any_value(snapshot) AS snapshot
    FROM business_crime_monthly
    WHERE borough_name = $borough_name
    GROUP BY month
), hits AS (
    SELECT month, sum(count) AS count
    FROM business_crime_monthly
    WHERE borough_name = $borough_name
      AND (len($sections) = 0 OR list_contains($sections, major_category))
    GROUP BY month
)
SELECT months.month, coalesce(hits.count, 0)::BIGINT AS count, months.snapshot
FROM months LEFT JOIN hits USING (month)
ORDER BY months.month
