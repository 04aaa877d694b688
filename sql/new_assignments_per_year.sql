-- New assignments per year of registration, by the registry's own dates, among the records of
-- the latest snapshot that have a service name and a port. No parameters.
SELECT substr(registered, 1, 4) AS year,
       count(*) AS records,
       count(DISTINCT name) AS service_names
FROM latest_records
WHERE name IS NOT NULL AND port IS NOT NULL AND registered IS NOT NULL
GROUP BY year
ORDER BY year;
