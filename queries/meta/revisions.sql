-- Revisions between overlapping MPS snapshots, per level and month: how many counts changed and the net change.
-- params: none
-- columns: level, month, kept_source, superseded_source, cells_changed, net_change
-- example: {}
SELECT level, month, kept_source, superseded_source,
       count(*)::INTEGER AS cells_changed,
       sum(kept_count - superseded_count)::BIGINT AS net_change
FROM crime_revisions
GROUP BY level, month, kept_source, superseded_source
ORDER BY month DESC, level
