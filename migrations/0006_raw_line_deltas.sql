-- portreg schema, version 6: raw bytes as line deltas (see src/store/raw/mod.rs).
--
-- `snapshot_raw` keeps its columns: the oldest snapshot's row is its whole document, every
-- other one's the line delta from the snapshot before it (`base_id`). Reading a snapshot no
-- longer decompresses every frame before it: at every 64th place a skip spans the 64 places
-- before it, at every 1024th a keyframe holds the whole document. The frames themselves are
-- rewritten by the migration's code (src/store/raw/legacy.rs), which checks every document's
-- sha256.
CREATE TABLE snapshot_raw_skip (
    snapshot_id INTEGER PRIMARY KEY REFERENCES snapshot (id),  -- the snapshot it makes
    base_id     INTEGER REFERENCES snapshot (id),  -- 64 places before it; NULL: a keyframe
    zstd        BLOB    NOT NULL                   -- the composed line delta, or the document
);
