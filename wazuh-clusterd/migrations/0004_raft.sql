-- The replicated registry of a master-eligible node (<failover>yes): the Raft log, its vote and
-- commit point, the state machine (agents, groups, file manifest) and its last snapshot. Values
-- that openraft defines (entries, log ids, votes, memberships) are stored as their serde JSON.

-- The Raft log, by index.
CREATE TABLE raft_log (
    log_index   INTEGER PRIMARY KEY NOT NULL,
    entry       TEXT NOT NULL                       -- the entry (log id + payload), JSON
) STRICT;

-- Single values by name: 'vote', 'committed', 'last_purged' (log store); 'applied',
-- 'membership', 'next_id' (state machine).
CREATE TABLE raft_meta (
    name    TEXT PRIMARY KEY NOT NULL,
    value   TEXT NOT NULL                           -- JSON
) STRICT, WITHOUT ROWID;

-- The registry's agents as of the entry 'applied'. Names and IPs are unique in the registry,
-- which checks them when it applies a command; the table does not repeat the check.
CREATE TABLE raft_agent (
    id              INTEGER PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    ip              TEXT NOT NULL,                  -- an address or 'any'
    key             TEXT NOT NULL,                  -- 64 hex characters
    groups          TEXT NOT NULL,                  -- JSON array of group names, in order
    registered_at   INTEGER NOT NULL                -- seconds since the Unix epoch
) STRICT;

-- The registry's groups.
CREATE TABLE raft_group (
    name    TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;

-- The file manifest the master pushes.
CREATE TABLE raft_manifest (
    path    TEXT PRIMARY KEY NOT NULL,
    hash    TEXT NOT NULL,                          -- blake2b-512, 128 hex characters
    mode    INTEGER NOT NULL                        -- permission bits
) STRICT, WITHOUT ROWID;

-- The last snapshot: its metadata and the whole registry, JSON.
CREATE TABLE raft_snapshot (
    id      INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    meta    TEXT NOT NULL,
    data    TEXT NOT NULL
) STRICT;
