-- Stop-and-search records with a timestamp in a period by day of the week (1 = Monday ... 7 = Sunday) and hour of the day (UK local time), every one of the 7 x 24 cells present.
-- params: start (DATE), end (DATE), ward_code (VARCHAR)
-- columns: weekday, hour, searches
-- example: {"start": "2023-09-01", "end": "2024-08-01", "ward_code": ""}
WITH s AS (
    SELECT isodow(searched_at) AS weekday, hour(searched_at) AS hour
    FROM stop_search
    WHERE searched_at IS NOT NULL
      AND month BETWEEN $start AND $end
      AND ($ward_code = '' OR ward_code = $ward_code)
)
SELECT d.weekday::INTEGER AS weekday, h.hour::INTEGER AS hour, count(s.weekday)::BIGINT AS searches
FROM range(1, 8) AS d(weekday)
CROSS JOIN range(0, 24) AS h(hour)
LEFT JOIN s ON s.weekday = d.weekday AND s.hour = h.hour
GROUP BY d.weekday, h.hour
ORDER BY weekday, hour
