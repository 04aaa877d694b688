-- portreg schema, version 2: every fetch attempt, for `portreg status` and conditional GETs.

CREATE TABLE fetch_attempt (
    id            INTEGER PRIMARY KEY,
    started_at    TEXT    NOT NULL,     -- UTC, RFC 3339
    finished_at   TEXT    NOT NULL,
    url           TEXT    NOT NULL,     -- as asked
    final_url     TEXT,                 -- after redirects, when a body came
    http_status   INTEGER,              -- of the last answer; NULL when none came
    tries         INTEGER NOT NULL,
    outcome       TEXT    NOT NULL CHECK (outcome IN (
                      'stored',         -- a new latest snapshot
                      'stored-older',   -- a new version dated before the latest, put in its place
                      'unchanged',      -- 200 with the bytes of the latest snapshot
                      'not-modified',   -- 304
                      'stale',          -- 200 with the bytes of an older stored snapshot
                      'refused',        -- a body that is not a complete, plausible registry
                      'failed')),       -- no usable answer (network, HTTP error, timeout)
    message       TEXT,                 -- why it was refused or failed
    snapshot_id   INTEGER REFERENCES snapshot (id),  -- the snapshot the body matched or became
    etag          TEXT,                 -- validators of the body, sent on the next fetch
    last_modified TEXT,
    byte_size     INTEGER
);
CREATE INDEX fetch_attempt_url ON fetch_attempt (url, id);
