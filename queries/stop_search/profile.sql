-- Stop-and-search records in a period, counted by every combination of the person and search fields (NULL = not recorded); the breakdowns and find rates are sums over this.
-- params: start (DATE), end (DATE), ward_code (VARCHAR)
-- columns: officer_defined_ethnicity, self_defined_ethnicity, age_range, gender, object_of_search, outcome, outcome_linked, searches
-- example: {"start": "2023-09-01", "end": "2024-08-01", "ward_code": ""}
SELECT officer_defined_ethnicity, self_defined_ethnicity, age_range, gender, object_of_search, outcome, outcome_linked,
       count(*)::BIGINT AS searches
FROM stop_search
WHERE month BETWEEN $start AND $end
  AND ($ward_code = '' OR ward_code = $ward_code)
GROUP BY ALL
ORDER BY searches DESC, officer_defined_ethnicity, self_defined_ethnicity, age_range, gender, object_of_search, outcome,
         outcome_linked
