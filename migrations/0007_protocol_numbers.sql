-- portreg schema, version 7: a second registry, IANA's Protocol Numbers, in the same file.
--
-- Every snapshot now says which registry it is a version of (`registry`: 'services' or
-- 'protocols'), and `seq` is its place in that registry's history: each registry has its
-- own 1..n. Raw bytes (`snapshot_raw`, `snapshot_raw_skip`) stay keyed by snapshot id, each
-- step against the snapshot before it in the same registry.
--
-- The port registry keeps its tables (`record_key`, `record_version`, `person_version`), so
-- queries written for them still work; the views over them now read the port registry's
-- snapshots only. The protocol numbers registry has tables of the same shape, keyed by
-- (value, name) and an ordinal, and views of the same kind.

ALTER TABLE snapshot ADD COLUMN registry TEXT NOT NULL DEFAULT 'services';
DROP INDEX snapshot_seq;
DROP INDEX snapshot_date;
CREATE INDEX snapshot_place ON snapshot (registry, seq);
CREATE INDEX snapshot_date ON snapshot (registry, registry_date);

ALTER TABLE fetch_attempt ADD COLUMN registry TEXT NOT NULL DEFAULT 'services';
CREATE INDEX fetch_attempt_registry ON fetch_attempt (registry, id);

-- A protocol number record's identity: (value, name) and the ordinal that tells repeats
-- apart (value 84 held TTP and IPTM until 2023).
CREATE TABLE protocol_number_key (
    id       INTEGER PRIMARY KEY,
    value    TEXT,                    -- '6' or a range '148-252'
    name     TEXT,                    -- IANA's keyword, as written: 'TCP', 'IPv6-ICMP'
    ordinal  INTEGER NOT NULL DEFAULT 1,
    value_lo INTEGER,                 -- numeric bounds of value, for lookups by number
    value_hi INTEGER
);
CREATE UNIQUE INDEX protocol_number_key_identity
    ON protocol_number_key (ifnull(value, ''), ifnull(name, ''), ordinal);
CREATE INDEX protocol_number_key_value ON protocol_number_key (value_lo, value_hi);

CREATE TABLE protocol_number_version (
    id                    INTEGER PRIMARY KEY,
    key_id                INTEGER NOT NULL REFERENCES protocol_number_key (id),
    first_seq             INTEGER NOT NULL,  -- places in the protocol numbers' history
    last_seq              INTEGER,           -- NULL: holds in its latest snapshot
    description           TEXT,
    ipv6_extension_header INTEGER NOT NULL,  -- 1 when <ipv6>Y</ipv6>, else 0
    contact               TEXT,              -- JSON array of person ids
    "references"          TEXT,              -- JSON array of 'type:data' strings
    registered            TEXT,
    modified              TEXT,
    notes                 TEXT,
    content_hash          INTEGER NOT NULL,
    CHECK (last_seq IS NULL OR last_seq >= first_seq)
);
CREATE INDEX protocol_number_version_key ON protocol_number_version (key_id, first_seq);
CREATE INDEX protocol_number_version_first ON protocol_number_version (first_seq);
CREATE INDEX protocol_number_version_last ON protocol_number_version (last_seq);

CREATE TABLE protocol_number_person_version (
    id           INTEGER PRIMARY KEY,
    person_id    TEXT    NOT NULL,
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER,
    name         TEXT,
    org          TEXT,
    uri          TEXT,
    updated      TEXT,
    content_hash INTEGER NOT NULL,
    CHECK (last_seq IS NULL OR last_seq >= first_seq)
);
CREATE INDEX protocol_number_person_version_person
    ON protocol_number_person_version (person_id, first_seq);
CREATE INDEX protocol_number_person_version_first ON protocol_number_person_version (first_seq);
CREATE INDEX protocol_number_person_version_last ON protocol_number_person_version (last_seq);

-- The port registry's views, over its own snapshots.
DROP VIEW record_history;
CREATE VIEW record_history AS
SELECT v.id AS version_id, k.id AS key_id, k.name, k.protocol, k.port, k.ordinal,
       k.port_lo, k.port_hi,
       v.description, v.assignee, v.contact, v."references", v.registered, v.modified,
       v.service_code, v.unauthorized, v.notes,
       v.first_seq, v.last_seq,
       f.id AS first_snapshot_id, f.registry_date AS first_registry_date,
       l.id AS last_snapshot_id, l.registry_date AS last_registry_date
FROM record_version v
JOIN record_key k ON k.id = v.key_id
JOIN snapshot f ON f.registry = 'services' AND f.seq = v.first_seq
JOIN snapshot l ON l.registry = 'services' AND l.seq = ifnull(v.last_seq,
    (SELECT max(seq) FROM snapshot WHERE registry = 'services'));

DROP VIEW changes;
CREATE VIEW changes AS
WITH edges AS (
    SELECT key_id, first_seq AS seq FROM record_version WHERE first_seq > 1
    UNION
    SELECT key_id, last_seq + 1 FROM record_version WHERE last_seq IS NOT NULL
)
SELECT s.id AS snapshot_id, s.seq, s.registry_date,
       CASE WHEN b.id IS NULL THEN 'added' WHEN a.id IS NULL THEN 'removed' ELSE 'modified' END
           AS change,
       k.name, k.protocol, k.port, k.ordinal,
       CASE WHEN a.id IS NOT NULL AND b.id IS NOT NULL THEN rtrim(
           CASE WHEN a.description IS NOT b.description THEN 'description,' ELSE '' END ||
           CASE WHEN a.assignee IS NOT b.assignee THEN 'assignee,' ELSE '' END ||
           CASE WHEN a.contact IS NOT b.contact THEN 'contact,' ELSE '' END ||
           CASE WHEN a."references" IS NOT b."references" THEN 'references,' ELSE '' END ||
           CASE WHEN a.registered IS NOT b.registered THEN 'registered,' ELSE '' END ||
           CASE WHEN a.modified IS NOT b.modified THEN 'modified,' ELSE '' END ||
           CASE WHEN a.service_code IS NOT b.service_code THEN 'service_code,' ELSE '' END ||
           CASE WHEN a.unauthorized IS NOT b.unauthorized THEN 'unauthorized,' ELSE '' END ||
           CASE WHEN a.notes IS NOT b.notes THEN 'notes,' ELSE '' END, ',') END
           AS changed_fields,
       b.id AS before_version_id, a.id AS after_version_id
FROM edges e
JOIN snapshot s ON s.registry = 'services' AND s.seq = e.seq
JOIN record_key k ON k.id = e.key_id
LEFT JOIN record_version a ON a.key_id = e.key_id AND a.first_seq = e.seq
LEFT JOIN record_version b ON b.key_id = e.key_id AND b.last_seq = e.seq - 1;

-- The protocol numbers registry's views, of the same kinds.
CREATE VIEW protocol_number_history AS
SELECT v.id AS version_id, k.id AS key_id, k.value, k.name, k.ordinal, k.value_lo, k.value_hi,
       v.description, v.ipv6_extension_header, v.contact, v."references", v.registered,
       v.modified, v.notes,
       v.first_seq, v.last_seq,
       f.id AS first_snapshot_id, f.registry_date AS first_registry_date,
       l.id AS last_snapshot_id, l.registry_date AS last_registry_date
FROM protocol_number_version v
JOIN protocol_number_key k ON k.id = v.key_id
JOIN snapshot f ON f.registry = 'protocols' AND f.seq = v.first_seq
JOIN snapshot l ON l.registry = 'protocols' AND l.seq = ifnull(v.last_seq,
    (SELECT max(seq) FROM snapshot WHERE registry = 'protocols'));

CREATE VIEW latest_protocol_numbers AS
SELECT k.value, k.name, k.ordinal, k.value_lo, k.value_hi,
       v.description, v.ipv6_extension_header, v.contact, v."references", v.registered,
       v.modified, v.notes, v.id AS version_id
FROM protocol_number_version v
JOIN protocol_number_key k ON k.id = v.key_id
WHERE v.last_seq IS NULL;

CREATE VIEW protocol_number_changes AS
WITH edges AS (
    SELECT key_id, first_seq AS seq FROM protocol_number_version WHERE first_seq > 1
    UNION
    SELECT key_id, last_seq + 1 FROM protocol_number_version WHERE last_seq IS NOT NULL
)
SELECT s.id AS snapshot_id, s.seq, s.registry_date,
       CASE WHEN b.id IS NULL THEN 'added' WHEN a.id IS NULL THEN 'removed' ELSE 'modified' END
           AS change,
       k.value, k.name, k.ordinal,
       CASE WHEN a.id IS NOT NULL AND b.id IS NOT NULL THEN rtrim(
           CASE WHEN a.description IS NOT b.description THEN 'description,' ELSE '' END ||
           CASE WHEN a.ipv6_extension_header IS NOT b.ipv6_extension_header
                THEN 'ipv6_extension_header,' ELSE '' END ||
           CASE WHEN a.contact IS NOT b.contact THEN 'contact,' ELSE '' END ||
           CASE WHEN a."references" IS NOT b."references" THEN 'references,' ELSE '' END ||
           CASE WHEN a.registered IS NOT b.registered THEN 'registered,' ELSE '' END ||
           CASE WHEN a.modified IS NOT b.modified THEN 'modified,' ELSE '' END ||
           CASE WHEN a.notes IS NOT b.notes THEN 'notes,' ELSE '' END, ',') END
           AS changed_fields,
       b.id AS before_version_id, a.id AS after_version_id
FROM edges e
JOIN snapshot s ON s.registry = 'protocols' AND s.seq = e.seq
JOIN protocol_number_key k ON k.id = e.key_id
LEFT JOIN protocol_number_version a ON a.key_id = e.key_id AND a.first_seq = e.seq
LEFT JOIN protocol_number_version b ON b.key_id = e.key_id AND b.last_seq = e.seq - 1;

-- One row per snapshot of either registry, with its change counts against the snapshot
-- before it in the same registry.
DROP VIEW snapshots;
CREATE VIEW snapshots AS
WITH edges AS (
    SELECT 'services' AS registry, key_id, first_seq AS seq, 1 AS starts, 0 AS ends
    FROM record_version WHERE first_seq > 1
    UNION ALL
    SELECT 'services', key_id, last_seq + 1, 0, 1 FROM record_version WHERE last_seq IS NOT NULL
    UNION ALL
    SELECT 'protocols', key_id, first_seq, 1, 0
    FROM protocol_number_version WHERE first_seq > 1
    UNION ALL
    SELECT 'protocols', key_id, last_seq + 1, 0, 1
    FROM protocol_number_version WHERE last_seq IS NOT NULL
), per_key AS (
    SELECT registry, seq, max(starts) AS starts, max(ends) AS ends
    FROM edges GROUP BY registry, seq, key_id
), counts AS (
    SELECT registry, seq,
           sum(starts AND NOT ends) AS added,
           sum(ends AND NOT starts) AS removed,
           sum(starts AND ends) AS modified
    FROM per_key GROUP BY registry, seq
)
SELECT s.id, s.seq, s.sha256, s.registry_date, s.observed_at, s.imported_at, s.source,
       s.record_count AS records, s.person_count AS people, s.byte_size,
       CASE WHEN s.seq = 1 THEN NULL ELSE ifnull(c.added, 0) END AS added,
       CASE WHEN s.seq = 1 THEN NULL ELSE ifnull(c.removed, 0) END AS removed,
       CASE WHEN s.seq = 1 THEN NULL ELSE ifnull(c.modified, 0) END AS modified,
       s.registry
FROM snapshot s
LEFT JOIN counts c ON c.registry = s.registry AND c.seq = s.seq;
