-- pgsession 002: updated_at, when the session's data or user last changed, next to
-- last_seen_at (when it was last used). Not indexed: a data write stays a HOT update.
ALTER TABLE {{schema}}.{{table}} ADD COLUMN updated_at timestamptz;
UPDATE {{schema}}.{{table}} SET updated_at = coalesce(authenticated_at, created_at);
ALTER TABLE {{schema}}.{{table}} ALTER COLUMN updated_at SET DEFAULT now(),
                                 ALTER COLUMN updated_at SET NOT NULL;
