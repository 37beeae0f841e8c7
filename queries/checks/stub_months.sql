-- London-wide borough months whose total is under 10% of the median month: a stub month that
-- should have been dropped at build.
-- params: none
-- columns: month, total, median_total
-- example: {}
WITH m AS (SELECT month, sum(count) AS total FROM crime_monthly WHERE level = 'borough' GROUP BY month)
SELECT month, total, (SELECT median(total) FROM m) AS median_total
FROM m WHERE total < 0.1 * (SELECT median(total) FROM m)
