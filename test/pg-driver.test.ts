/**
 * The node-postgres driver recognizes a pool by its shape, not by `instanceof`: a pool
 * from another copy of `pg` is used (and never ended), not taken as options.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions } from "../src/core/sessions.js";
import { pgStore } from "../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "./support/db.js";

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
    expect(real.listenerCount("error")).toBe(errorListeners + 1); // the driver's listener, on this pool
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
