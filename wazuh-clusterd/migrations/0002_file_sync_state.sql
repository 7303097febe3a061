-- The master's record, per worker and synchronized file, of where the file's synchronization
-- stands (what cluster_control shows per file). One row per (node, file); a newer state replaces
-- the row. States: pending (sent, outcome unknown until the worker's next integrity check),
-- synchronized (the worker's last check showed the master's hash), failed (the transfer failed or
-- the content did not reach the worker), deleted (gone from the master and from the worker).
CREATE TABLE file_sync_state (
    node         TEXT NOT NULL,                  -- worker name
    file         TEXT NOT NULL,                  -- path relative to the Wazuh home
    state        TEXT NOT NULL CHECK (state IN ('pending', 'synchronized', 'failed', 'deleted')),
    changed_ns   INTEGER NOT NULL,               -- last change, ns since the Unix epoch
    PRIMARY KEY (node, file)
) STRICT, WITHOUT ROWID;

CREATE INDEX file_sync_state_by_file ON file_sync_state (file, node);
