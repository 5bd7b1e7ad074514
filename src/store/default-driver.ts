/**
 * The driver used when `createSessions` gets none: an in-memory PGlite database, loaded
 * on first use so that applications with their own driver never load PGlite.
 * @module
 */
import type { Queryable, Row, Statement, StoreDriver } from "../driver.js";

/** A PGlite driver created on first use. */
export function lazyDefaultDriver(): StoreDriver {
  let driver: Promise<StoreDriver> | undefined;
  const get = () => (driver ??= import("./pglite.js").then((m) => m.pgliteStore()));
  return {
    kind: "pglite",
    async query<R extends Row>(statement: Statement, params: readonly unknown[]) {
      return (await get()).query<R>(statement, params);
    },
    async exec(script: string) {
      return (await get()).exec(script);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return (await get()).transaction(fn);
    },
    async close() {
      if (driver) await (await driver).close();
    },
  };
}
