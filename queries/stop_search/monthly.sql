-- Stop-and-search records per month held (months absent from the source are absent here), optionally for one ward ('' = the whole borough).
-- params: ward_code (VARCHAR)
-- columns: month, searches
-- example: {"ward_code": ""}
SELECT month, count(*)::BIGINT AS searches
FROM stop_search
WHERE ($ward_code = '' OR ward_code = $ward_code)
GROUP BY month
ORDER BY month
