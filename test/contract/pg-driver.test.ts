/**
 * The node-postgres driver recognizes a pool by its shape, not by `instanceof`: a pool
 * from another copy of `pg` is used (and never ended), not taken as options.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

/** A real pool that `instanceof pg.Pool` does not recognize, as one from another copy of `pg`. */
function foreignPool(pool: pg.Pool): pg.Pool {
  return new Proxy(pool, { getPrototypeOf: () => Object.prototype });
}

describe.skipIf(!hasPostgres)("pgStore with a pool from another copy of pg [pg]", () => {
  const schema = uniqueSchema("pgdrv");
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("regression: a pool failing instanceof pg.Pool is used as the pool, not as options, and close() leaves it usable", async () => {
    const applicationName = `pgsession-foreign-${randomBytes(4).toString("hex")}`;
    const real = new pg.Pool({ connectionString: DATABASE_URL, max: 2, application_name: applicationName });
    const pool = foreignPool(real);
    expect(pool instanceof pg.Pool).toBe(false);
    const errorListeners = real.listenerCount("error");

    const sessions = createSessions({ store: pgStore(pool), schema });
    expect(real.listenerCount("error")).toBe(errorListeners); // a borrowed pool's errors stay its owner's
    await sessions.migrate();
    const session = await sessions.resolve(undefined);
    session.set("k", "v");
    const cookie = (await sessions.commit(session))!.split(";")[0]!;
    expect((await sessions.resolve(cookie)).get("k")).toBe("v");
    // Statements ran on connections of the pool passed in (its application_name), not on a second pool.
    const app = await sessions.transaction(session, (sql) => sql<{ app: string }>`SELECT current_setting('application_name') AS app`);
    expect(app[0]?.app).toBe(applicationName);
    expect(real.totalCount).toBeGreaterThan(0);

    await sessions.close();
    expect(real.ended).toBe(false);
    expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    const backends = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
    expect(backends.rows[0].n).toBeGreaterThan(0);
    await real.end();
  });

  it("an options object is still taken as options: the driver owns that pool and close() ends it", async () => {
    const store = pgStore({ connectionString: DATABASE_URL, max: 1 });
    const sessions = createSessions({ store, schema });
    await sessions.migrate();
    await sessions.close();
    await expect(store.query({ name: "after_close_shape", text: "SELECT 1" }, [])).rejects.toThrow(/end/i);
  });
});

describe.skipIf(!hasPostgres)("pgStore's two ways of handing pg a statement [pg]", () => {
  const schema = uniqueSchema("pgpath");
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  /** A whole lifecycle: create, read, write, log in (in a transaction), read again, end. */
  async function lifecycle(pool: pg.Pool): Promise<void> {
    const sessions = createSessions({ store: pgStore(pool), schema });
    await sessions.migrate();
    const session = await sessions.resolve(undefined);
    session.set("n", 1);
    const first = (await sessions.commit(session))!.split(";")[0]!;
    const read = await sessions.resolve(first);
    expect(read.get("n")).toBe(1);
    read.set("n", 2);
    await read.login("user-7");
    const second = (await sessions.commit(read))!.split(";")[0]!;
    expect(second).not.toBe(first);
    const again = await sessions.resolve(second);
    expect([again.get("n"), again.userId]).toEqual([2, "user-7"]);
    await again.logout();
    await sessions.commit(again);
    expect((await sessions.resolve(second)).isNew).toBe(true);
    await sessions.close();
  }

  /** Makes `query()` of a Client prototype note what it received; returns the undo. */
  function recordQueries(prototype: pg.Client, seen: string[]): () => void {
    const target = prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = target.query;
    target.query = function (this: pg.Client, ...args: unknown[]) {
      seen.push(args[0] instanceof pg.Query ? "Query" : typeof args[0]);
      return original.apply(this, args);
    };
    return () => {
      target.query = original;
    };
  }

  it("with this module's pg, statements go as Query objects, on the pool and in transactions", async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    const seen: string[] = [];
    // Record on this pg's own Client (the lean path is taken only for it), then restore it.
    const restore = recordQueries(pg.Client.prototype, seen);
    try {
      await lifecycle(pool);
    } finally {
      restore();
      await pool.end();
    }
    expect(seen).toContain("Query");
    expect(seen).not.toContain("object");
  });

  it("with clients of another pg (here a subclass), statements go as config objects, and work the same", async () => {
    const seen: string[] = [];
    class Recording extends pg.Client {}
    recordQueries(Recording.prototype, seen);
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, Client: Recording });
    try {
      await lifecycle(pool);
    } finally {
      await pool.end();
    }
    expect(seen).toContain("object");
    expect(seen).not.toContain("Query");
  });
});
