-- Met stop-and-search records in a period placed in one of the 32 London boroughs the Met covers (City of London and unplaced records left out), counted by the two ethnicity fields: the London figures beside the borough's rates per 1,000 residents.
-- params: start (DATE), end (DATE)
-- columns: self_defined_ethnicity, officer_defined_ethnicity, searches
-- example: {"start": "2023-09-01", "end": "2024-08-01"}
SELECT self_defined_ethnicity, officer_defined_ethnicity, sum(searches)::BIGINT AS searches
FROM stop_search_london
WHERE month BETWEEN $start AND $end
  AND borough_code IS NOT NULL
  AND borough_code <> 'E09000001'
GROUP BY ALL
ORDER BY searches DESC, self_defined_ethnicity, officer_defined_ethnicity
