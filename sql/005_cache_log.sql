-- pgsession 005: the read cache's change log. The cache's triggers (sql/cache.sql) append
-- what changed here instead of sending a NOTIFY each: a transaction that notifies takes a
-- database-wide lock at commit, so notifying writes commit one at a time, while an insert
-- into this UNLOGGED table costs a write little. Every caching instance moves the log to
-- the table's channel in batches, one NOTIFY per batch (src/store/pg-change-feed.ts). The
-- table exists for every sessions table, so that the trigger function, which every migrate
-- defines, always has it; it stays empty where no cache is installed. UNLOGGED: a crash
-- empties it, and ends every LISTEN connection, after which each cache starts empty.
CREATE UNLOGGED TABLE {{schema}}.{{table:_cache_log}} (
  seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  payload text NOT NULL
);
COMMENT ON TABLE {{schema}}.{{table:_cache_log}} IS 'pgsession: changes for the read caches, until an instance relays them';
