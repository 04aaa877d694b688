-- portreg schema, version 6: raw bytes as line deltas (see src/store/raw/mod.rs).
--
-- `snapshot_raw` keeps its columns: the oldest snapshot's row is its whole document, every
-- other one's the line delta from the snapshot before it (`base_id`). Reading snapshot k no
-- longer decompresses the k frames before it: skips span 64 and 4096 snapshots. The frames
-- themselves are rewritten by the migration's code (src/store/raw/legacy.rs), which checks
-- every document's sha256.
CREATE TABLE snapshot_raw_skip (
    snapshot_id INTEGER NOT NULL REFERENCES snapshot (id),  -- the snapshot it makes
    base_id     INTEGER NOT NULL REFERENCES snapshot (id),  -- 64 or 4096 places before it
    zstd        BLOB    NOT NULL,                           -- the composed line delta
    PRIMARY KEY (snapshot_id, base_id)
);
