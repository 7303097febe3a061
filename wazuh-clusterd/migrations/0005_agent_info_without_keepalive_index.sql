-- The master's scan for silent agents (once per `sync_agent_groups`, 10 s by default) reads the
-- whole `agent_info` table: 7 ms at 100,000 rows. The index it used instead was updated by every
-- agent-info row a worker sends (each changes `last_keepalive`), about a quarter of an ingest's
-- time at 100,000 agents (43.9 ms per 10,000 rows with it, 33.9 ms without; 38.7 and 34.9 ms at
-- 10,000 agents; `cargo bench --bench agent_info`, medians of 4 runs).
DROP INDEX agent_info_active_by_keepalive;
