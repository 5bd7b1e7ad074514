/**
 * The postgres.js driver when the server kills its connections: the next request either
 * works or throws SessionStoreError (never a crash, never an unhandled rejection), and the
 * sessions come back within a few retries. Mirrors the node-postgres test in drivers.test.ts.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import postgres from "postgres";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import { SessionStoreError } from "../../src/errors.js";
import type { Session } from "../../src/session/session.js";
import { postgresStore } from "../../src/store/postgres.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// postgres.js 3.4's sql.end() never resolves once a connection of it died with a query
// attached (porsager/postgres#1097, #1130): give it a bound, after which it destroys them.
const END_TIMEOUT_S = 1;

describe.skipIf(!hasPostgres)("postgres.js driver when the server kills its connections [postgres.js]", () => {
  const schema = uniqueSchema("pjsf");
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", onUnhandled);
    process.on("uncaughtException", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
    process.off("uncaughtException", onUnhandled);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  /** Terminates every backend of `applicationName`; resolves to how many. */
  async function killBackends(applicationName: string): Promise<number> {
    const killed = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
      [applicationName],
    );
    return killed.rowCount ?? 0;
  }

  /** `attempt` until it resolves, at most 20 tries 100 ms apart; every failure must be a SessionStoreError. */
  async function recover<T>(attempt: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let i = 0; i < 20; i++) {
      try {
        return await attempt();
      } catch (err) {
        expect(err).toBeInstanceOf(SessionStoreError);
        last = err;
        await sleep(100);
      }
    }
    throw new Error(`did not recover within 20 tries: ${String(last)}`);
  }

  /** The first call after a kill: either its value, or a SessionStoreError (anything else fails the test). */
  async function firstAfterKill<T>(attempt: () => Promise<T>): Promise<T | SessionStoreError> {
    try {
      return await attempt();
    } catch (err) {
      expect(err).toBeInstanceOf(SessionStoreError);
      expect((err as SessionStoreError).code).toBe("ERR_SESSION_STORE");
      return err as SessionStoreError;
    }
  }

  async function setUp(
    options: { maxSessionsPerUser?: number } = {},
  ): Promise<{ sql: postgres.Sql; sessions: Sessions; applicationName: string; cookie: string }> {
    const applicationName = `pgsession-pjs-kill-${randomBytes(4).toString("hex")}`;
    const sql = postgres(DATABASE_URL, { max: 2, connection: { application_name: applicationName }, onnotice: () => {} });
    const sessions = createSessions({ ...options, store: postgresStore(sql), schema });
    await sessions.migrate();
    const session = await sessions.resolve(undefined);
    session.set("k", 1);
    const cookie = (await sessions.commit(session))!.split(";")[0]!;
    return { sql, sessions, applicationName, cookie };
  }

  it("survives the server killing its idle connections: resolve works or throws SessionStoreError, then recovers", async () => {
    const { sql, sessions, applicationName, cookie } = await setUp();
    try {
      expect(await killBackends(applicationName)).toBeGreaterThan(0);
      const first = await firstAfterKill(() => sessions.resolve(cookie));
      if (!(first instanceof SessionStoreError)) expect(first.get("k")).toBe(1);
      const again = await recover(() => sessions.resolve(cookie));
      expect(again.get("k")).toBe(1);
      expect(unhandled).toEqual([]);
    } finally {
      await sessions.close();
      await sql.end({ timeout: END_TIMEOUT_S });
    }
  });

  it("survives a kill between requests that write: commit and login work again, and what they stored is read back", async () => {
    const { sql, sessions, applicationName, cookie } = await setUp({ maxSessionsPerUser: 5 });
    try {
      const session = await sessions.resolve(cookie);
      expect(await killBackends(applicationName)).toBeGreaterThan(0);
      session.set("k", 2);
      const first = await firstAfterKill(() => sessions.commit(session));
      if (first instanceof SessionStoreError) await recover(() => sessions.commit(session));
      expect((await recover(() => sessions.resolve(cookie))).get("k")).toBe(2);

      // With maxSessionsPerUser a login is a transaction (BEGIN ... COMMIT on one connection).
      const current: Session = await recover(() => sessions.resolve(cookie));
      expect(await killBackends(applicationName)).toBeGreaterThan(0);
      const login = await firstAfterKill(() => current.login("user-1"));
      if (login instanceof SessionStoreError) await recover(() => current.login("user-1"));
      const setCookie = await recover(() => sessions.commit(current));
      const after = await recover(() => sessions.resolve(setCookie!.split(";")[0]!));
      expect(after.userId).toBe("user-1");
      expect(after.get("k")).toBe(2);
      expect(unhandled).toEqual([]);
    } finally {
      await sessions.close();
      await sql.end({ timeout: END_TIMEOUT_S });
    }
  });
});
