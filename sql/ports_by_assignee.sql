-- Assigned ports of the latest snapshot per assignee (person or organisation id), largest
-- holders first. No parameters.
SELECT a.value AS assignee, count(*) AS records,
       group_concat(DISTINCT port) AS ports
FROM latest_records, json_each(latest_records.assignee) AS a
WHERE port IS NOT NULL
GROUP BY a.value
ORDER BY records DESC, assignee
LIMIT 50;
