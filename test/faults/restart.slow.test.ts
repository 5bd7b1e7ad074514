/**
 * PostgreSQL restarted while load runs, on a throwaway cluster this test creates on its own
 * loopback port (the shared server is never touched): a clean restart (pg_ctl restart -m
 * fast), and a crash-like stop (-m immediate) with the server down for 3 s. Slow (initdb),
 * so it runs in `npm run reliability`, not in `npm test`.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUIRE_POSTGRES } from "../support/db.js";
import { createThrowawayCluster, type ThrowawayCluster } from "./cluster.js";
import { runFault, sleep, startFaultApp, type FaultApp, type FaultOutcome } from "./harness.js";

function expectSurvived(outcome: FaultOutcome): void {
  const { figures } = outcome;
  expect(outcome.violations).toEqual([]);
  expect(outcome.tokensLogged).toEqual([]);
  expect(figures.tally.unavailable).toBeGreaterThan(0);
  expect(figures.tally.maxElapsedMs).toBeLessThanOrEqual(figures.boundMs);
  expect(figures.recoveryMs).toBeLessThan(5_000);
  expect(figures.writesVerified).toBe(figures.tally.writesAcked);
  expect(outcome.pool.waiting).toBe(0);
  expect(outcome.pool.idle).toBe(outcome.pool.total);
}

describe("PostgreSQL restarted under load (throwaway cluster)", () => {
  let cluster: ThrowawayCluster | null = null;
  let skipReason = "";
  let admin: pg.Pool | null = null;
  const apps: FaultApp[] = [];
  const sql = async (text: string, params: unknown[]) => (await (admin as pg.Pool).query(text, params)).rows;
  const config = (): pg.PoolConfig => ({
    host: "127.0.0.1",
    port: (cluster as ThrowawayCluster).port,
    user: "postgres",
    database: "postgres",
    max: 8,
    connectionTimeoutMillis: 1_000,
    query_timeout: 3_000,
  });

  beforeAll(async () => {
    const made = await createThrowawayCluster();
    if (typeof made === "string") {
      if (REQUIRE_POSTGRES) throw new Error(`PGSESSION_REQUIRE_POSTGRES=1 but ${made}`);
      skipReason = made;
      console.warn(`SKIPPING restart faults: ${made}`);
      return;
    }
    cluster = made;
    admin = new pg.Pool({ ...config(), max: 2 });
    // The admin pool loses its connections at each restart; that is expected here.
    admin.on("error", () => {});
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await admin?.end().catch(() => {});
    await cluster?.remove();
  }, 60_000);

  it("survives pg_ctl restart -m fast under load", async (ctx) => {
    if (!cluster) return ctx.skip(skipReason);
    const target = cluster;
    const app = await startFaultApp(config());
    apps.push(app);
    const outcome = await runFault(app, {
      fault: "PostgreSQL restarted (pg_ctl restart -m fast)",
      clients: 12,
      boundMs: 4_000,
      sql,
      async inject() {
        await target.restart("fast");
        return 1;
      },
    });
    expectSurvived(outcome);
  }, 60_000);

  it("survives a crash-like stop (-m immediate) and 3 s down, then start", async (ctx) => {
    if (!cluster) return ctx.skip(skipReason);
    const target = cluster;
    const app = await startFaultApp(config());
    apps.push(app);
    const outcome = await runFault(app, {
      fault: "PostgreSQL killed (pg_ctl stop -m immediate), down 3 s, started",
      clients: 12,
      boundMs: 4_000,
      sql,
      async inject() {
        await target.stop("immediate");
        await sleep(3_000);
        await target.start();
        return 1;
      },
    });
    expectSurvived(outcome);
  }, 60_000);
});
