-- Rows held back from the warehouse by validation, with the reason, per source file.
-- params: none
-- columns: source_file, reason, rows
-- example: {}
SELECT source_file, reason, count(*)::INTEGER AS rows
FROM quarantine
GROUP BY source_file, reason
ORDER BY source_file, rows DESC
