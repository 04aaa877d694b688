-- portreg schema, version 1.
--
-- History is kept as versions with validity intervals: each distinct version of a record (or a
-- person) is one row saying from which snapshot to which it held, by the snapshots' places in
-- history (`seq`, 1 = oldest). `last_seq` NULL means "still holds in the latest snapshot".
-- Importing an older version later renumbers `seq` and splits or joins intervals, so the rows are
-- always the same as if every version had come in date order.

CREATE TABLE snapshot (
    id            INTEGER PRIMARY KEY,
    seq           INTEGER NOT NULL,          -- place in history: registry date, then observed time
    registry_date TEXT    NOT NULL,          -- the document's <updated>, YYYY-MM-DD
    observed_at   TEXT    NOT NULL,          -- when this version was seen (UTC, RFC 3339)
    imported_at   TEXT    NOT NULL,          -- when portreg stored it (UTC, RFC 3339)
    source        TEXT    NOT NULL,          -- file path, URL or '-' (standard input)
    sha256        TEXT    NOT NULL UNIQUE,   -- of the document's bytes (decompressed)
    byte_size     INTEGER NOT NULL,
    record_count  INTEGER NOT NULL,
    person_count  INTEGER NOT NULL,
    title         TEXT
);
CREATE INDEX snapshot_seq ON snapshot (seq);
CREATE INDEX snapshot_date ON snapshot (registry_date);

-- The document's exact bytes: a zstd frame, standalone for the oldest snapshot and otherwise
-- compressed with the previous snapshot's bytes as prefix ("patch-from"), about 1 KB a week.
CREATE TABLE snapshot_raw (
    snapshot_id INTEGER PRIMARY KEY REFERENCES snapshot (id),
    base_id     INTEGER REFERENCES snapshot (id),    -- NULL: standalone frame
    zstd        BLOB    NOT NULL
);

-- A record's identity: (name, protocol, port) and the ordinal that tells repeats apart.
CREATE TABLE record_key (
    id       INTEGER PRIMARY KEY,
    name     TEXT,
    protocol TEXT,
    port     TEXT,                    -- '443' or a range '225-241'
    ordinal  INTEGER NOT NULL DEFAULT 1,
    port_lo  INTEGER,                 -- numeric bounds of port, for range queries
    port_hi  INTEGER
);
CREATE UNIQUE INDEX record_key_identity
    ON record_key (ifnull(name, ''), ifnull(protocol, ''), ifnull(port, ''), ordinal);
CREATE INDEX record_key_port ON record_key (port_lo, port_hi);
CREATE INDEX record_key_name ON record_key (name COLLATE NOCASE);

CREATE TABLE record_version (
    id           INTEGER PRIMARY KEY,
    key_id       INTEGER NOT NULL REFERENCES record_key (id),
    first_seq    INTEGER NOT NULL,
    last_seq     INTEGER,             -- NULL: holds in the latest snapshot
    description  TEXT,
    assignee     TEXT,                -- JSON array of person ids
    contact      TEXT,                -- JSON array of person ids
    "references" TEXT,                -- JSON array of 'type:data' strings
    registered   TEXT,
    modified     TEXT,
    service_code TEXT,
    unauthorized TEXT,
    notes        TEXT,
    content_hash INTEGER NOT NULL,    -- digest of the fields above, to compare versions
    CHECK (last_seq IS NULL OR last_seq >= first_seq)
);
CREATE INDEX record_version_key ON record_version (key_id, first_seq);
CREATE INDEX record_version_first ON record_version (first_seq);
CREATE INDEX record_version_last ON record_version (last_seq);

CREATE TABLE person_version (
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
CREATE INDEX person_version_person ON person_version (person_id, first_seq);
CREATE INDEX person_version_first ON person_version (first_seq);
CREATE INDEX person_version_last ON person_version (last_seq);

-- Every version of every record, with the snapshots it held in.
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
JOIN snapshot f ON f.seq = v.first_seq
JOIN snapshot l ON l.seq = ifnull(v.last_seq, (SELECT max(seq) FROM snapshot));

-- The records of the latest snapshot.
CREATE VIEW latest_records AS
SELECT k.name, k.protocol, k.port, k.ordinal, k.port_lo, k.port_hi,
       v.description, v.assignee, v.contact, v."references", v.registered, v.modified,
       v.service_code, v.unauthorized, v.notes, v.id AS version_id
FROM record_version v
JOIN record_key k ON k.id = v.key_id
WHERE v.last_seq IS NULL;

-- Every record change between consecutive snapshots: a key whose version starts at a snapshot
-- (added or modified) or whose version ended at the one before it (removed or modified).
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
JOIN snapshot s ON s.seq = e.seq
JOIN record_key k ON k.id = e.key_id
LEFT JOIN record_version a ON a.key_id = e.key_id AND a.first_seq = e.seq
LEFT JOIN record_version b ON b.key_id = e.key_id AND b.last_seq = e.seq - 1;

-- One row per snapshot with its change counts against the snapshot before it.
CREATE VIEW snapshots AS
WITH edges AS (
    SELECT key_id, first_seq AS seq, 1 AS starts, 0 AS ends
    FROM record_version WHERE first_seq > 1
    UNION ALL
    SELECT key_id, last_seq + 1, 0, 1 FROM record_version WHERE last_seq IS NOT NULL
), per_key AS (
    SELECT seq, max(starts) AS starts, max(ends) AS ends FROM edges GROUP BY seq, key_id
), counts AS (
    SELECT seq,
           sum(starts AND NOT ends) AS added,
           sum(ends AND NOT starts) AS removed,
           sum(starts AND ends) AS modified
    FROM per_key GROUP BY seq
)
SELECT s.id, s.seq, s.sha256, s.registry_date, s.observed_at, s.imported_at, s.source,
       s.record_count AS records, s.person_count AS people, s.byte_size,
       CASE WHEN s.seq = 1 THEN NULL ELSE ifnull(c.added, 0) END AS added,
       CASE WHEN s.seq = 1 THEN NULL ELSE ifnull(c.removed, 0) END AS removed,
       CASE WHEN s.seq = 1 THEN NULL ELSE ifnull(c.modified, 0) END AS modified
FROM snapshot s
LEFT JOIN counts c ON c.seq = s.seq;
