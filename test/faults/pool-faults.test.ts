/**
 * Database faults on the shared PostgreSQL server, through real HTTP on loopback with the
 * node:http adapter: backends killed, pool exhausted, statements slower than
 * statement_timeout, and a black-hole TCP endpoint for connect and query timeouts. Each
 * test asserts: no crash, no request past its bound, 503 with no Set-Cookie, no client ever
 * answered as someone else or as a new visitor, recovery within seconds, every write
 * answered 200 stored, no token in the logs, and the pool back to rest.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { Client } from "./app.js";
import { startBlackHole } from "./blackhole.js";
import { captureConsole, recordFault, runFault, sleep, startFaultApp, type FaultApp, type FaultOutcome } from "./harness.js";

/** User, password and database of a URL, to connect elsewhere with them. */
function credentials(url: URL): pg.PoolConfig {
  return {
    user: decodeURIComponent(url.username || "postgres"),
    ...(url.password && { password: decodeURIComponent(url.password) }),
    database: decodeURIComponent(url.pathname.slice(1) || "postgres"),
  };
}

function expectSurvived(outcome: FaultOutcome, options: { expectUnavailable: boolean }): void {
  const { figures } = outcome;
  expect(outcome.violations).toEqual([]);
  expect(outcome.tokensLogged).toEqual([]);
  expect(figures.injected).toBeGreaterThan(0);
  if (options.expectUnavailable) expect(figures.tally.unavailable).toBeGreaterThan(0);
  expect(figures.tally.maxElapsedMs).toBeLessThanOrEqual(figures.boundMs);
  expect(figures.recoveryMs).toBeLessThan(5_000);
  expect(figures.writesVerified).toBeGreaterThan(0);
  expect(figures.writesVerified).toBe(figures.tally.writesAcked);
  expect(outcome.pool.waiting).toBe(0);
  expect(outcome.pool.idle).toBe(outcome.pool.total);
}

describe.skipIf(!hasPostgres)("faults on the shared PostgreSQL server", () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });
  const sql = async (text: string, params: unknown[]) => (await admin.query(text, params)).rows;
  const apps: FaultApp[] = [];
  const start = async (config: pg.PoolConfig, options?: Parameters<typeof startFaultApp>[1]) => {
    const app = await startFaultApp(config, options);
    apps.push(app);
    return app;
  };
  /** Holds an ACCESS EXCLUSIVE lock on the app's table (as a migration or VACUUM FULL does) while `during` runs. */
  const withTableLocked = async <T>(app: FaultApp, during: () => Promise<T>): Promise<T> => {
    const locker = await admin.connect();
    try {
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${app.schema}".sessions IN ACCESS EXCLUSIVE MODE`);
      return await during();
    } finally {
      await locker.query("COMMIT").catch(() => {});
      locker.release();
    }
  };

  beforeAll(async () => {
    await admin.query("SELECT 1");
  });
  afterAll(async () => {
    for (const app of apps) {
      await app.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${app.schema}" CASCADE`);
    }
    await admin.end();
  });

  it("survives its backends killed with pg_terminate_backend under load", async () => {
    const app = await start({ connectionString: DATABASE_URL, max: 8, connectionTimeoutMillis: 2_000, query_timeout: 5_000 });
    const outcome = await runFault(app, {
      fault: "backends killed (pg_terminate_backend)",
      clients: 12,
      boundMs: 2_500,
      sql,
      async inject() {
        let killed = 0;
        for (let round = 0; round < 4; round++) {
          // Requests pile up on the locked table, so the kill lands on statements in flight.
          killed += await withTableLocked(app, async () => {
            await sleep(300);
            const rows = await sql("SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1", [
              app.applicationName,
            ]);
            return rows[0]?.n as number;
          });
          await sleep(300);
        }
        return killed;
      },
    });
    expectSurvived(outcome, { expectUnavailable: true });
  });

  it("answers 503 within connectionTimeoutMillis when the pool is exhausted, and recovers", async () => {
    const app = await start({ connectionString: DATABASE_URL, max: 1, connectionTimeoutMillis: 500, query_timeout: 5_000 });
    const outcome = await runFault(app, {
      fault: "pool exhausted (max 1, a transaction held 2 s)",
      clients: 4,
      boundMs: 2_000,
      sql,
      async inject(target) {
        // The pool's only connection is busy with the clients' traffic: take it as soon as it is free
        // (each try waits at most connectionTimeoutMillis; bounded to 20 tries).
        let held: pg.PoolClient | undefined;
        for (let attempt = 0; !held && attempt < 20; attempt++) held = await target.pool.connect().catch(() => undefined);
        if (!held) throw new Error("could not take the pool's only connection within 20 tries");
        try {
          await held.query("BEGIN");
          await sleep(2_000);
          await held.query("COMMIT");
        } finally {
          held.release();
        }
        return 1;
      },
    });
    expectSurvived(outcome, { expectUnavailable: true });
  });

  it("answers 503 when statements outlast statement_timeout (table locked), and recovers", async () => {
    // One connection per client: what bounds a request here is statement_timeout, not the pool's queue.
    const app = await start({
      connectionString: DATABASE_URL,
      max: 8,
      statement_timeout: 400,
      query_timeout: 5_000,
      connectionTimeoutMillis: 1_000,
    });
    const outcome = await runFault(app, {
      fault: "statements slower than statement_timeout (400 ms; table locked 2 s)",
      clients: 8,
      boundMs: 1_500,
      sql,
      async inject() {
        await withTableLocked(app, () => sleep(2_000));
        return 1;
      },
    });
    expectSurvived(outcome, { expectUnavailable: true });
    // The requests waited for the server's timeout, not for something else.
    expect(outcome.figures.tally.maxUnavailableMs).toBeGreaterThanOrEqual(350);
  });

  it("answers 503 within query_timeout when the network goes silent mid-connection, and recovers", async () => {
    const url = new URL(DATABASE_URL);
    const proxy = await startBlackHole({ host: url.hostname || "127.0.0.1", port: Number(url.port || 5432) }, "forward");
    try {
      // No connectionString: pg would let it override host and port.
      const app = await start({
        ...credentials(url),
        host: "127.0.0.1",
        port: proxy.port,
        max: 4,
        connectionTimeoutMillis: 700,
        query_timeout: 1_000,
      });
      const outcome = await runFault(app, {
        fault: "network silent (black hole mid-connection; query_timeout 1 s, connect 0.7 s)",
        clients: 8,
        boundMs: 3_500,
        sql,
        async inject() {
          proxy.setMode("blackhole");
          await sleep(2_500);
          proxy.setMode("forward");
          return 1;
        },
      });
      expectSurvived(outcome, { expectUnavailable: true });
    } finally {
      await proxy.close();
    }
  });

  it("answers 503 within connectionTimeoutMillis against a server that accepts and never answers", async () => {
    const hole = await startBlackHole(null);
    const logs = captureConsole();
    const violations: string[] = [];
    try {
      const app = await start(
        {
          ...credentials(new URL(DATABASE_URL)),
          host: "127.0.0.1",
          port: hole.port,
          connectionTimeoutMillis: 700,
          query_timeout: 1_000,
          max: 4,
        },
        { schema: uniqueSchema("fault"), migrate: false },
      );
      const clients = Array.from({ length: 6 }, (_, i) => new Client(app.base, `hole${i}`, violations, { timeoutMs: 5_000 }));
      // Half arrive with a well-formed cookie: they must keep it, not be handed a new session.
      const held = "A".repeat(43);
      clients.slice(0, 3).forEach((client) => (client.cookie = held));
      const started = Date.now();
      // A cookieless read needs no database (a new visitor is what it is); everything else does.
      const statuses = await Promise.all(
        clients.flatMap((client) => [
          ...(client.cookie ? [client.read(false)] : []),
          client.write(),
          client.send("POST", "/login?user=x").then((a) => a.status),
        ]),
      );
      const elapsed = Date.now() - started;
      expect(statuses.every((status) => status === 503)).toBe(true);
      expect(clients.slice(0, 3).every((client) => client.cookie === held)).toBe(true);
      expect(clients.slice(3).every((client) => client.cookie === null)).toBe(true);
      expect(violations).toEqual([]);
      expect(hole.accepted).toBeGreaterThan(0);
      // 15 requests through 4 connections: the pool's wait and the connect share one bound each.
      expect(elapsed).toBeLessThan(2_500);
      // Nothing is left connecting or checked out.
      for (let i = 0; i < 100 && app.pool.totalCount > 0; i++) await sleep(20);
      expect(app.pool.totalCount).toBe(0);
      logs.restore();
      recordFault(
        "black-hole server (connect never answered; connectionTimeoutMillis 0.7 s)",
        {
          injected: hole.accepted,
          boundMs: 2_500,
          recoveryMs: 0,
          writesVerified: 0,
          violations: violations.length,
          tokensInLogs: 0,
          logLines: logs.lines.length,
        },
        clients,
      );
    } finally {
      logs.restore();
      await hole.close();
    }
  });
});
