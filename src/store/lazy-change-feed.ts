/**
 * The read cache's change feed, loaded on first use, so that an application without the
 * cache (or with postgres.js and no `pg` installed) never loads node-postgres through it.
 * @module
 */
import type { ChangeFeed, ChangeListener } from "../session/changes.js";
import type { TableName } from "../session/table.js";
import type { ListenConnection, PgChangeFeedOptions } from "./pg-change-feed.js";

/**
 * {@link pgChangeFeed}, imported when it starts. When `pg` cannot be loaded the cache stays
 * bypassed, and says why once.
 *
 * @example
 * ```ts
 * const feed = lazyChangeFeed("postgres://127.0.0.1/app", { schema: "pgsession", table: "sessions" }, { heartbeatMs: 1000, warn: console.warn });
 * ```
 */
export function lazyChangeFeed(connection: ListenConnection, names: TableName, options: PgChangeFeedOptions): ChangeFeed {
  let feed: Promise<ChangeFeed | null> | null = null;
  let closed = false;
  return {
    start(listener: ChangeListener) {
      feed ??= import("./pg-change-feed.js").then(
        (module) => {
          const loaded = module.pgChangeFeed(connection, names, options);
          if (!closed) loaded.start(listener);
          return loaded;
        },
        (err: Error) => {
          const reason = `the pg package could not be loaded (${err.message}): the read cache listens with node-postgres`;
          listener.lost(reason);
          options.warn(`pgsession: the read cache is bypassed: ${reason}`);
          return null;
        },
      );
    },
    async close() {
      closed = true;
      await (await feed)?.close();
    },
  };
}
