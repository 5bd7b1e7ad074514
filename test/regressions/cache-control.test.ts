/**
 * Issue 36, point 17: a response that sets the session cookie is kept out of shared caches
 * (`Cache-Control: no-store`) unless the app already does so; `noStore: false` turns it
 * off. The adapter contract checks every adapter with the default; this checks the option.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { serveApp, type Data } from "../faults/app.js";

describe.skipIf(!hasPostgres)("Cache-Control on responses that set the session cookie", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  const schema = uniqueSchema("cache_control");
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  async function loginWith(noStore: boolean | undefined): Promise<Response> {
    const sessions = createSessions<Data>({ store: pgStore(pool), schema, ...(noStore !== undefined && { noStore }) });
    await sessions.migrate();
    const app = await serveApp(sessions);
    try {
      return await fetch(`${app.base}/login`, { method: "POST" });
    } finally {
      await app.close();
    }
  }

  it("adds no-store by default and nothing with noStore: false", async () => {
    const byDefault = await loginWith(undefined);
    expect(byDefault.headers.getSetCookie()).toHaveLength(1);
    expect(byDefault.headers.get("cache-control")).toBe("no-store");

    const off = await loginWith(false);
    expect(off.headers.getSetCookie()).toHaveLength(1);
    expect(off.headers.get("cache-control")).toBeNull();
  });

  it("refuses a noStore that is not a boolean", () => {
    expect(() => createSessions({ store: pgStore(pool), schema, noStore: "yes" as never })).toThrow(/noStore/);
  });
});
