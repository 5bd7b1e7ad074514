-- pgsession 004: the prune lease, which prune is under way. A prune deletes expired rows in
-- batches, each its own short transaction under an advisory lock, and holds nothing in the
-- pause between two batches; each batch renews the lease, which carries the prune across
-- those pauses, so that another instance's prune does not start in one of them. A prune
-- that dies leaves its lease to expire. One row at most.
CREATE TABLE {{schema}}.{{table:_prune_lease}} (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  holder     text NOT NULL,
  expires_at timestamptz NOT NULL
);
COMMENT ON TABLE {{schema}}.{{table:_prune_lease}} IS 'pgsession: which prune of the sessions table is under way, until when';
