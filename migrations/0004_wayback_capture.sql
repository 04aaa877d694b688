-- portreg schema, version 4: the Internet Archive captures `backfill --wayback` has checked, so
-- a second run downloads nothing it has seen (identical digests are identical bytes).
CREATE TABLE wayback_capture (
    digest      TEXT    PRIMARY KEY,   -- the archive's digest of the capture's content
    timestamp   TEXT    NOT NULL,      -- YYYYMMDDhhmmss, UTC
    url         TEXT    NOT NULL,      -- where it was downloaded from
    outcome     TEXT    NOT NULL CHECK (outcome IN ('stored', 'stored-older', 'already-stored', 'refused')),
    message     TEXT,                  -- why it was refused
    snapshot_id INTEGER REFERENCES snapshot (id),
    checked_at  TEXT    NOT NULL       -- UTC, RFC 3339
);
