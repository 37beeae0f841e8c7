-- What each source file contributes: dataset, first and last month, dropped stub months.
-- params: none
-- columns: dataset, source_file, snapshot, first_month, last_month, stub_months
-- example: {}
SELECT dataset, source_file, snapshot, first_month, last_month, stub_months
FROM coverage
ORDER BY dataset, last_month DESC
