-- The last 20 fetch attempts, newest first: when, what came back, and what portreg did with
-- it. No parameters.
SELECT started_at, url, http_status, tries, outcome, snapshot_id, message
FROM fetch_attempt
ORDER BY id DESC
LIMIT 20;
