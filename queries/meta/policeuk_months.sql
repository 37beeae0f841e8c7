-- Months of police.uk records the warehouse holds, per dataset, with the number of records: street
-- crime counts only months that include anti-social behaviour (all-crime months, not the
-- burglary-only extract), so `update` knows which months it still has to fetch.
-- params: none
-- columns: dataset, month, records
-- example: {}
SELECT 'street_crime' AS dataset, month, count(*)::BIGINT AS records
FROM street_crime
WHERE month IN (SELECT DISTINCT month FROM street_crime WHERE crime_type = 'Anti-social behaviour')
GROUP BY month
UNION ALL
SELECT 'street_outcomes', month, count(*)::BIGINT FROM street_outcomes GROUP BY month
UNION ALL
SELECT 'stop_search', month, count(*)::BIGINT FROM stop_search GROUP BY month
ORDER BY dataset, month
