-- portreg schema, version 3: port lookups without a scan. Single ports are found by
-- record_key_port (port_lo); the few hundred ranges that may overlap a port from below by this.
CREATE INDEX record_key_range ON record_key (port_hi) WHERE port_hi > port_lo;
