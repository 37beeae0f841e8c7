-- The months the ward-level MPS data cover for the configured borough, with the extract each came from
-- (the TTCG view offers only these months, and names the snapshot it shows).
-- params: borough_code (VARCHAR)
-- columns: month, snapshot
-- example: {"borough_code": "E09000030"}
SELECT month, max(snapshot) AS snapshot
FROM crime_monthly
WHERE level = 'ward' AND borough_code = $borough_code
GROUP BY month
ORDER BY month
