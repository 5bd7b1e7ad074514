/**
 * PGlite driver: the embedded PostgreSQL, for development, demos and tests.
 * @module
 */
import { PGlite } from "@electric-sql/pglite";
import type { Queryable, Row, Statement, StoreDriver } from "../driver.js";

/**
 * The part of a PGlite database the driver uses: a `PGlite` instance, or a wrapper with
 * the same four methods.
 *
 * @example
 * ```ts
 * const db: PGliteLike = new PGlite("./.pgsession");
 * const store = pgliteStore(db); // db stays yours to close
 * ```
 */
export type PGliteLike = Pick<PGlite, "query" | "exec" | "transaction" | "close">;

/**
 * Wraps a PGlite database. With no argument it creates an in-memory database; with a
 * directory path it creates one persisted there. A database passed in stays yours;
 * one created here is closed by `close()`.
 *
 * @example
 * ```ts
 * import { pgliteStore } from "pgsession/pglite";
 * const store = pgliteStore("./.pgsession"); // or pgliteStore() for memory only
 * ```
 */
export function pgliteStore(dbOrDataDir?: PGliteLike | string): StoreDriver {
  const owned = dbOrDataDir === undefined || typeof dbOrDataDir === "string";
  const db: PGliteLike = owned ? new PGlite(dbOrDataDir as string | undefined) : dbOrDataDir;

  type Target = Pick<PGlite, "query" | "exec">;
  const on = (client: Target): Queryable => ({
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      const result = await client.query<R>(statement.text, params as unknown[]);
      return result.rows;
    },
    async exec(script: string) {
      await client.exec(script);
    },
  });
  let closed = false;
  return {
    kind: "pglite",
    ...on(db),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(on(tx)));
    },
    async close() {
      if (owned && !closed) {
        closed = true;
        await db.close();
      }
    },
  };
}
