-- Monthly totals of all offences at borough, ward and LSOA level for the configured borough
-- (borough > wards > LSOAs: crimes that cannot be placed drop out at finer levels).
-- params: borough_code (VARCHAR)
-- columns: month, borough, wards, lsoas
-- example: {"borough_code": "E09000030"}
SELECT month,
       sum(count) FILTER (WHERE level = 'borough')::BIGINT AS borough,
       sum(count) FILTER (WHERE level = 'ward')::BIGINT AS wards,
       sum(count) FILTER (WHERE level = 'lsoa')::BIGINT AS lsoas
FROM crime_monthly
WHERE borough_code = $borough_code
GROUP BY month
ORDER BY month
