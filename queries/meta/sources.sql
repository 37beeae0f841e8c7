-- The raw files the warehouse was built from, with publisher, licence and checksum.
-- params: none
-- columns: path, kind, snapshot, as_of, publisher, licence, origin, sha256, landed_at, landed_by
-- example: {}
SELECT path, kind, snapshot, as_of, publisher, licence, origin, sha256, landed_at, landed_by
FROM sources
ORDER BY kind, as_of
