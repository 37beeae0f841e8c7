-- Monthly MPS Monthly Crime Dashboard values for one crime type, subtype and measure summed over the
-- 32 London boroughs (borough-level rows), for the London comparison. A month is covered for a
-- borough when a file publishing this crime type has any borough row for it that month (the
-- dashboard omits zero rows, so a covered month with none counts 0); boroughs = boroughs covered.
-- params: crime_type (VARCHAR), crime_subtype (VARCHAR), measure (VARCHAR)
-- columns: month, count, boroughs, snapshot
-- example: {"crime_type": "Gun Crime", "crime_subtype": "Gun Crime", "measure": "Offences"}
WITH files AS (
    SELECT DISTINCT source_file FROM dashboard_monthly WHERE crime_type = $crime_type
), rows AS (
    SELECT month, area_code, crime_type, crime_subtype, measure, count, snapshot
    FROM dashboard_monthly
    WHERE area_level = 'borough' AND area_code IN (SELECT borough_code FROM boroughs)
      AND source_file IN (SELECT source_file FROM files)
)
SELECT month,
       coalesce(sum(count) FILTER (WHERE crime_type = $crime_type AND crime_subtype = $crime_subtype
                                     AND measure = $measure), 0)::BIGINT AS count,
       count(DISTINCT area_code)::INTEGER AS boroughs,
       coalesce(any_value(snapshot) FILTER (WHERE crime_type = $crime_type), any_value(snapshot)) AS snapshot
FROM rows
GROUP BY month
ORDER BY month
