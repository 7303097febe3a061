-- The nodes connected to this master: one row per worker that completed `hello`.
-- A row is written when the worker's session starts and deleted when it ends; the master
-- empties the table at start (the sessions of a previous run are gone).
CREATE TABLE node (
    name                 TEXT PRIMARY KEY NOT NULL,  -- node_name, unique in the cluster
    node_type            TEXT NOT NULL CHECK (node_type IN ('master', 'worker')),
    version              TEXT NOT NULL,              -- Wazuh version announced in hello
    address              TEXT NOT NULL,              -- IP the node connected from
    connected_since_ns   INTEGER NOT NULL            -- session start, ns since the Unix epoch
) STRICT;
