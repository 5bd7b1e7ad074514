-- pgsession read cache: the triggers that report every change a reader would see to the
-- instances caching sessions of this table, through the table's change log (migration
-- 005), which those instances relay to the table's NOTIFY channel in batches. Not a
-- numbered migration: they cost every write they report, so they are installed only for the tables of applications that turn the
-- cache on (`migrate()` with the `cache` option, `pgsession migrate --cache`,
-- `pgsession sql install --cache`). Running this again changes nothing. The function they
-- call, <table>_changed(), is in functions.sql. Placeholders as in the migrations, and
-- {{table_literal:suffix}}, the name <table><suffix> as a string literal.
--
-- What is reported: a DELETE (logout, revocation, prune, or any SQL), a TRUNCATE, and an UPDATE
-- that changes what a reader sees. Not a touch: an UPDATE that only moves last_seen_at and
-- extends idle_expires_at is left out by the WHEN clause, so the read path's touches stay
-- silent; a cached entry never outlives the idle expiry it read, and goes back to the
-- database when a touch is due. An INSERT reports nothing: a new token was in no cache.
-- A column added by a later migration that readers see belongs in the WHEN clause too (and
-- the triggers' names then take a new version, so that this script replaces them).
--
-- ENABLE ALWAYS: the triggers fire for writers running with session_replication_role =
-- replica too (logical replication, some restore tools), which would otherwise change rows
-- silently.
DO $pgsession_cache$
DECLARE
  rel regclass := '{{schema}}.{{table}}'::regclass;
  current_names name[] := ARRAY[{{table_literal:_cache_v1_update}}, {{table_literal:_cache_v1_delete}},
                                {{table_literal:_cache_v1_truncate}}]::name[];
  old_name name;
BEGIN
  -- Triggers of an earlier version of this script are replaced.
  FOR old_name IN
    SELECT t.tgname FROM pg_catalog.pg_trigger t
     WHERE t.tgrelid = rel AND pg_catalog.starts_with(t.tgname, {{table_literal:_cache_v}}) AND t.tgname <> ALL (current_names)
  LOOP
    EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', old_name, rel);
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = rel AND t.tgname = current_names[1]) THEN
    CREATE TRIGGER {{table:_cache_v1_update}} AFTER UPDATE ON {{schema}}.{{table}} FOR EACH ROW
      WHEN (OLD.version IS DISTINCT FROM NEW.version
         OR OLD.token_hash IS DISTINCT FROM NEW.token_hash
         OR OLD.user_id IS DISTINCT FROM NEW.user_id
         OR OLD.audience IS DISTINCT FROM NEW.audience
         OR OLD.remember IS DISTINCT FROM NEW.remember
         OR OLD.id IS DISTINCT FROM NEW.id
         OR NEW.idle_expires_at < OLD.idle_expires_at
         OR OLD.absolute_expires_at IS DISTINCT FROM NEW.absolute_expires_at
         OR OLD.touch_after IS DISTINCT FROM NEW.touch_after
         OR OLD.created_at IS DISTINCT FROM NEW.created_at
         OR OLD.updated_at IS DISTINCT FROM NEW.updated_at
         OR OLD.token_issued_at IS DISTINCT FROM NEW.token_issued_at
         OR OLD.authenticated_at IS DISTINCT FROM NEW.authenticated_at
         OR OLD.data IS DISTINCT FROM NEW.data)
      EXECUTE FUNCTION {{schema}}.{{table:_changed}}();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = rel AND t.tgname = current_names[2]) THEN
    CREATE TRIGGER {{table:_cache_v1_delete}} AFTER DELETE ON {{schema}}.{{table}} FOR EACH ROW
      EXECUTE FUNCTION {{schema}}.{{table:_changed}}();
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = rel AND t.tgname = current_names[3]) THEN
    CREATE TRIGGER {{table:_cache_v1_truncate}} AFTER TRUNCATE ON {{schema}}.{{table}} FOR EACH STATEMENT
      EXECUTE FUNCTION {{schema}}.{{table:_changed}}();
  END IF;
  -- Only when one is not ALWAYS yet: ALTER TABLE locks the table.
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = rel AND t.tgname = ANY (current_names) AND t.tgenabled <> 'A') THEN
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I, ENABLE ALWAYS TRIGGER %I, ENABLE ALWAYS TRIGGER %I',
                              rel, current_names[1], current_names[2], current_names[3]);
  END IF;
END
$pgsession_cache$;
