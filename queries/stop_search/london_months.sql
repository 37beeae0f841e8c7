-- Met stop-and-search records per month held Met-wide: placed in the 32 London boroughs the Met covers, placed in the City of London, outside London's LSOAs, and with no location (which no borough's figures can include).
-- params: none
-- columns: month, placed, city_of_london, outside_london, no_location, records
-- example: {}
SELECT month,
       coalesce(sum(searches) FILTER (WHERE borough_code IS NOT NULL AND borough_code <> 'E09000001'), 0)::BIGINT AS placed,
       coalesce(sum(searches) FILTER (WHERE borough_code = 'E09000001'), 0)::BIGINT AS city_of_london,
       coalesce(sum(searches) FILTER (WHERE geo_status = 'outside'), 0)::BIGINT AS outside_london,
       coalesce(sum(searches) FILTER (WHERE geo_status = 'no_location'), 0)::BIGINT AS no_location,
       sum(searches)::BIGINT AS records
FROM stop_search_london
GROUP BY month
ORDER BY month
