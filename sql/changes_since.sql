-- Every record change between consecutive snapshots dated on or after :since (YYYY-MM-DD),
-- oldest first. Parameters: :since
SELECT registry_date, change, name, protocol, port, changed_fields
FROM changes
WHERE registry_date >= :since
ORDER BY seq, CAST(port AS INTEGER), protocol, name;
