-- Monthly MPS Monthly Crime Dashboard values for one area, crime type, subtype and measure.
-- A month is covered when a dashboard file that publishes this crime type has any row for the
-- area in that month; a covered month with no row for the subtype counts 0 (the dashboard omits
-- zero rows, e.g. a month with no gun crime). Months no such file covers are absent. The snapshot is
-- the one this crime type's rows came from that month (files overlap: the knife-only refresh
-- replaces knife rows of months the older all-types file also covers).
-- params: area_code (VARCHAR), crime_type (VARCHAR), crime_subtype (VARCHAR), measure (VARCHAR)
-- columns: month, count, snapshot
-- example: {"area_code": "E09000030", "crime_type": "Hate crime", "crime_subtype": "Hate crime", "measure": "Offences"}
WITH files AS (
    SELECT DISTINCT source_file
    FROM dashboard_monthly
    WHERE area_code = $area_code AND crime_type = $crime_type
), months AS (
    SELECT month,
           coalesce(any_value(snapshot) FILTER (WHERE crime_type = $crime_type), any_value(snapshot)) AS snapshot
    FROM dashboard_monthly
    WHERE area_code = $area_code AND source_file IN (SELECT source_file FROM files)
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
