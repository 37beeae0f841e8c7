-- MPS Monthly Crime Dashboard values per ward of the borough and month, for the pooled ward dispersion
-- behind ward change verdicts. Only months the dashboard's ward rows cover within start..end appear
-- (months not published are absent, never 0); within them a ward with none counts 0.
-- params: crime_type (VARCHAR), crime_subtype (VARCHAR), measure (VARCHAR), start (DATE), end (DATE)
-- columns: ward_code, month, count
-- example: {"crime_type": "Knife Crime", "crime_subtype": "Knife Crime", "measure": "Offences", "start": "2023-04-01", "end": "2025-03-01"}
WITH months AS (
    SELECT DISTINCT month
    FROM dashboard_monthly
    WHERE area_level = 'ward' AND crime_type = $crime_type AND measure = $measure
      AND month BETWEEN $start AND $end
), hits AS (
    SELECT area_code, month, sum(count) AS count
    FROM dashboard_monthly
    WHERE area_level = 'ward' AND crime_type = $crime_type AND crime_subtype = $crime_subtype
      AND measure = $measure AND month BETWEEN $start AND $end
    GROUP BY area_code, month
)
SELECT w.ward_code, m.month, coalesce(h.count, 0)::BIGINT AS count
FROM wards AS w
CROSS JOIN months AS m
LEFT JOIN hits AS h ON h.area_code = w.ward_code AND h.month = m.month
ORDER BY w.ward_code, m.month
