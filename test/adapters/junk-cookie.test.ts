/**
 * Junk cookies (malformed, duplicated, quoted, invalid UTF-8, over-long, forged) mean "no
 * session" and never reach SQL: counted on a real node-postgres driver.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import type { StoreDriver } from "../../src/driver.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

describe.skipIf(!hasPostgres)("junk cookies", () => {
  const schema = uniqueSchema("junk");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  let queries = 0;
  const real = pgStore(pool);
  const counting: StoreDriver = { ...real, query: (statement, params) => ((queries += 1), real.query(statement, params)) };
  let sessions: Sessions;

  beforeAll(async () => {
    sessions = createSessions({ store: counting, schema });
    await sessions.migrate();
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it("resolves them to a new session without a single query", async () => {
    const token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
    const headers = [
      "session",
      "session=",
      "=",
      ";;;;",
      "session=abc",
      `session="${token}"`,
      `session=${token}; session=${token}`,
      `session=${token.slice(0, 42)}\u00ff`,
      `session=${token}x`,
      `session=${"A".repeat(100_000)}`,
      "session=%00%00",
      `session=${token.slice(0, 42)}B`, // right length and alphabet, not canonical base64url
    ];
    queries = 0;
    for (const header of headers) {
      const session = await sessions.resolve(header);
      expect(session.isNew).toBe(true);
    }
    expect(queries).toBe(0);
    // A well-formed token does query, and is not found: by current token, then by previous
    // token (the rotation grace window), two index lookups.
    await sessions.resolve(`session=${token}`);
    expect(queries).toBe(2);
  });
});
