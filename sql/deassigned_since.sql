-- Services de-assigned in the stored history on or after :since (YYYY-MM-DD): a named record
-- that disappeared while a record without a name (Reserved, Unassigned, a De-assigned note)
-- took its port. Parameters: :since
SELECT c.registry_date, c.name AS former_name, c.protocol, c.port,
       n.description AS now, n.notes
FROM changes c
JOIN record_history n
  ON n.first_seq = c.seq AND n.name IS NULL
 AND n.protocol IS c.protocol AND n.port_lo <= CAST(c.port AS INTEGER)
 AND n.port_hi >= CAST(c.port AS INTEGER)
WHERE c.change = 'removed' AND c.name IS NOT NULL AND c.port IS NOT NULL
  AND c.registry_date >= :since
ORDER BY c.registry_date, CAST(c.port AS INTEGER), c.protocol;
