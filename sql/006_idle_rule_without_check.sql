-- pgsession 006: the rule that the idle expiry never passes the absolute one stays, kept
-- by the writers; the CHECK constraint that restated it (004) goes.
--
-- PostgreSQL evaluates a table's CHECK constraints on every INSERT and UPDATE, whichever
-- columns change, and prepares them anew for each statement (it parses the stored
-- expression again): measured under callgrind, about 13,000 to 15,000 instructions, a
-- tenth of every write pgsession makes (a login's INSERT, a save, a touch). The rule itself
-- holds without it: every statement pgsession runs sets idle_expires_at to
-- least(now + idle timeout, absolute_expires_at) or earlier, and session_handler() refuses
-- an absolute timeout shorter than the idle one. The constraint never stopped anyone who
-- can write the table: such a writer can move absolute_expires_at as well.
--
-- Reads still test liveness on idle_expires_at alone. SQL of your own that extends a
-- session must keep the rule: set idle_expires_at no later than absolute_expires_at.

ALTER TABLE {{schema}}.{{table}} DROP CONSTRAINT IF EXISTS {{table:_idle_within_absolute}};

COMMENT ON COLUMN {{schema}}.{{table}}.idle_expires_at IS
  'pgsession: when the session ends; never later than absolute_expires_at (reads check only this column)';
