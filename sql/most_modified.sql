-- The records with the most distinct versions across the stored history. No parameters.
SELECT name, protocol, port, count(*) AS versions,
       min(first_registry_date) AS first_seen, max(last_registry_date) AS last_seen
FROM record_history
GROUP BY key_id
ORDER BY versions DESC, name
LIMIT 25;
