/**
 * Driver failures as pgsession reports them.
 * @module
 */
import { SessionStoreError } from "../errors.js";

/** Wraps any driver failure into a {@link SessionStoreError}, keeping the SQLSTATE. */
export function toStoreError(err: unknown, what: string): SessionStoreError {
  if (err instanceof SessionStoreError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  // A table or function of the schema is missing: the migrations have not run (or not all of them).
  const hint =
    sqlState === "42P01" || sqlState === "42883" || sqlState === "3F000"
      ? " (run sessions.migrate() or `pgsession migrate` to create or update the schema)"
      : "";
  return new SessionStoreError(`pgsession: ${what} failed: ${reason}${hint}`, { cause: err, sqlState });
}
