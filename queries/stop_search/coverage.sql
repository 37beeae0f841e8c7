-- Coverage of the stop-and-search records held: first and latest month, months held, how many records carry a timestamp and a location, and the snapshot wording.
-- params: none
-- columns: first_month, last_month, months_held, searches, with_timestamp, with_location, snapshot
-- example: {}
SELECT min(month) AS first_month,
       max(month) AS last_month,
       count(DISTINCT month)::BIGINT AS months_held,
       count(*)::BIGINT AS searches,
       count(searched_at)::BIGINT AS with_timestamp,
       (count(*) FILTER (WHERE longitude IS NOT NULL AND latitude IS NOT NULL))::BIGINT AS with_location,
       string_agg(DISTINCT snapshot, '; ' ORDER BY snapshot) AS snapshot
FROM stop_search
