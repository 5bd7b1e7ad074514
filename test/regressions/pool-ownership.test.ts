/**
 * Issue 36, point 6: a pool pgsession creates never waits forever for a connection, and a
 * pool passed in gets nothing that outlives `close()`.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createSessions, SessionStoreError } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { startBlackHole } from "../faults/blackhole.js";
import { DATABASE_URL, hasPostgres } from "../support/db.js";

describe("pools pgsession creates", () => {
  it("give up on a connection that never answers after the default timeout, as a SessionStoreError", async () => {
    const hole = await startBlackHole(null);
    const sessions = createSessions({ store: pgStore({ host: "127.0.0.1", port: hole.port, user: "postgres" }) });
    const started = Date.now();
    try {
      await expect(sessions.resolve(`session=${"A".repeat(43)}`)).rejects.toBeInstanceOf(SessionStoreError);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(4_000);
      expect(waited).toBeLessThan(30_000);
    } finally {
      await sessions.close();
      await hole.close();
    }
  }, 40_000);
});

describe.skipIf(!hasPostgres)("pools passed in", () => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  afterAll(() => pool.end());

  it("twelve drivers on one pool add no listener and no MaxListenersExceededWarning; onError listens only while open", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    const before = pool.listenerCount("error");
    try {
      const plain = Array.from({ length: 12 }, () => createSessions({ store: pgStore(pool) }));
      expect(pool.listenerCount("error")).toBe(before);
      for (const sessions of plain) await sessions.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);

      const errors: Error[] = [];
      const listening = Array.from({ length: 3 }, () => pgStore(pool, { onError: (err) => errors.push(err) }));
      expect(pool.listenerCount("error")).toBe(before + 3);
      pool.emit("error", new Error("idle connection dropped"));
      expect(errors).toHaveLength(3);
      for (const driver of listening) await driver.close();
      expect(pool.listenerCount("error")).toBe(before);
      expect((await pool.query("SELECT 1 AS one")).rows[0].one).toBe(1);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
