-- Monthly police-recorded offences in one borough for a measure (MPS major and/or minor categories).
-- Months the borough extract covers but with no matching offences come back as 0; months the
-- extracts do not cover are absent (missing is never shown as zero).
-- params: borough_code (VARCHAR), majors (VARCHAR[]), minors (VARCHAR[])
-- columns: month, count, snapshot
-- example: {"borough_code": "E09000030", "majors": ["ROBBERY"], "minors": []}
WITH months AS (
    SELECT month, any_value(snapshot) AS snapshot
    FROM crime_monthly
    WHERE level = 'borough' AND borough_code = $borough_code
    GROUP BY month
), hits AS (
    SELECT month, sum(count) AS count
    FROM crime_monthly
    WHERE level = 'borough' AND borough_code = $borough_code
      AND in_categories(major_category, minor_category, $majors, $minors)
    GROUP BY month
)
SELECT months.month, coalesce(hits.count, 0)::BIGINT AS count, months.snapshot
FROM months LEFT JOIN hits USING (month)
ORDER BY months.month
