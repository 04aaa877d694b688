-- The last 20 fetch attempts of every registry, newest first: which registry, when, what came
-- back, and what portreg did with it. No parameters.
SELECT registry, started_at, url, http_status, tries, outcome, snapshot_id, message
FROM fetch_attempt
ORDER BY id DESC
LIMIT 20;
