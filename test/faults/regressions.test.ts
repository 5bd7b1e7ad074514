/**
 * Regression tests for bugs the fault suite found, each named after its bug.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { sleep } from "./harness.js";

describe.skipIf(!hasPostgres)("fault regressions (pg driver)", () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  afterAll(() => admin.end());

  it("bug: a connection dropped between two statements of a pg transaction crashed the process (checked-out client had no 'error' listener)", async () => {
    const applicationName = `pgsession_${uniqueSchema("txdrop")}`;
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, application_name: applicationName });
    const driver = pgStore(pool);
    try {
      const attempt = driver.transaction(async (tx) => {
        await tx.query({ name: "txdrop_one", text: "SELECT 1 AS one" }, []);
        // The server drops this connection while the transaction waits on something else.
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [applicationName]);
        await sleep(300);
        return tx.query({ name: "txdrop_two", text: "SELECT 2 AS two" }, []);
      });
      // Before the fix, the dropped connection's 'error' event had no listener: an uncaught
      // exception that took the process down. Now the next statement fails, as a rejection.
      await expect(attempt).rejects.toThrow();
      // The broken client was destroyed, not returned: the pool serves the next statement.
      expect(await driver.query({ name: "txdrop_three", text: "SELECT 3 AS three" }, [])).toEqual([{ three: 3 }]);
    } finally {
      await pool.end();
    }
  });
});
