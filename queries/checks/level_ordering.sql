-- Months where a finer level counts more offences than a coarser one for the configured borough
-- (borough >= sum of wards >= sum of LSOAs must hold: finer levels only lose ungeocoded crimes).
-- params: borough_code (VARCHAR)
-- columns: month, borough, wards, lsoas
-- example: {"borough_code": "E09000030"}
WITH t AS (
    SELECT month,
           sum(count) FILTER (WHERE level = 'borough') AS borough,
           sum(count) FILTER (WHERE level = 'ward') AS wards,
           sum(count) FILTER (WHERE level = 'lsoa') AS lsoas
    FROM crime_monthly WHERE borough_code = $borough_code GROUP BY month
)
SELECT month, borough, wards, lsoas FROM t
WHERE wards > borough OR lsoas > wards
