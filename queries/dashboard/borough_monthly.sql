-- Monthly MPS Monthly Crime Dashboard values for one area, crime type, subtype and measure.
-- Months in which the dashboard has any row for that crime type are returned; a subtype absent
-- in such a month counts 0 (the dashboard omits zero rows). Other months are absent.
-- params: area_code (VARCHAR), crime_type (VARCHAR), crime_subtype (VARCHAR), measure (VARCHAR)
-- columns: month, count, snapshot
-- example: {"area_code": "E09000030", "crime_type": "Hate crime", "crime_subtype": "Hate crime", "measure": "Offences"}
WITH months AS (
    SELECT month, any_value(snapshot) AS snapshot
    FROM dashboard_monthly
    WHERE area_code = $area_code AND crime_type = $crime_type
    GROUP BY month
), hits AS (
    SELECT month, sum(count) AS count
    FROM dashboard_monthly
    WHERE area_code = $area_code AND crime_type = $crime_type
      AND crime_subtype = $crime_subtype AND measure = $measure
    GROUP BY month
)
SELECT months.month, coalesce(hits.count, 0)::BIGINT AS count, months.snapshot
FROM months LEFT JOIN hits USING (month)
ORDER BY months.month
