-- Every change in the Protocol Numbers registry (the source of /etc/protocols) between
-- consecutive snapshots dated on or after :since (YYYY-MM-DD), oldest first, with the
-- description before and after. Parameters: :since
SELECT c.registry_date, c.change, c.value, c.name, c.changed_fields,
       b.description AS description_before, a.description AS description_after
FROM protocol_number_changes c
LEFT JOIN protocol_number_version b ON b.id = c.before_version_id
LEFT JOIN protocol_number_version a ON a.id = c.after_version_id
WHERE c.registry_date >= :since
ORDER BY c.seq, CAST(c.value AS INTEGER), c.name;
