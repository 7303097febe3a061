-- The agents of a node. On the master: the registry (`agent`, its groups, the group names) and
-- the agent-info of the whole cluster. On a worker: the group assignments the master sent (for
-- agents it holds no record of) and the agent-info of the agents connected to it.

-- A registered agent: one line of etc/client.keys.
CREATE TABLE agent (
    id              INTEGER PRIMARY KEY NOT NULL,   -- agent id (client.keys prints it as 001)
    name            TEXT NOT NULL UNIQUE,
    ip              TEXT NOT NULL,                  -- an address or 'any'
    key             TEXT NOT NULL,                  -- 64 hex characters
    registered_at   INTEGER NOT NULL                -- seconds since the Unix epoch
) STRICT;

-- The groups of an agent, in their order; no foreign key: a worker holds assignments only.
CREATE TABLE agent_group_assignment (
    agent_id    INTEGER NOT NULL,
    position    INTEGER NOT NULL,                   -- 0-based order of the group
    group_name  TEXT NOT NULL,
    PRIMARY KEY (agent_id, position)
) STRICT, WITHOUT ROWID;

-- The groups that exist (folders etc/shared/<name>/).
CREATE TABLE agent_group (
    name    TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;

-- What a node knows of an agent's connection. `seen_at` is the later of `last_keepalive` and
-- `disconnection_time` (or the smallest integer when both are absent): a row replaces the stored
-- one only when it speaks for a later time, or the same time from the same node (Wazuh #24401).
CREATE TABLE agent_info (
    id                  INTEGER PRIMARY KEY NOT NULL,
    status              TEXT NOT NULL
                        CHECK (status IN ('active', 'disconnected', 'never_connected', 'pending')),
    last_keepalive      INTEGER,                    -- seconds since the Unix epoch
    disconnection_time  INTEGER,                    -- seconds since the Unix epoch
    version             TEXT,
    os                  TEXT,
    node                TEXT,                       -- the node the agent reports to
    seen_at             INTEGER NOT NULL
) STRICT;

-- The master's periodic scan for silent agents reads only the active rows.
CREATE INDEX agent_info_active_by_keepalive ON agent_info (last_keepalive)
    WHERE status = 'active';
