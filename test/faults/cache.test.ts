/**
 * Issue 38.3: the read cache when its LISTEN connection fails, under traffic on the shared
 * server. The listener's backend terminated (pg_terminate_backend), and the listener's
 * network going silent (a black-hole TCP endpoint: no reset, no answer). In both: from the
 * moment the loss is observed (for a silent network: from the end of the heartbeat's lease)
 * until the cache listens again, every read goes to the database and none returns a value
 * older than one committed before it started; a write
 * committed while nobody listened is never missed; and the cache comes back by itself. While
 * the cache answers, a read may trail a commit by the notification's delay (the revocation
 * window, measured by bench/revocation-window.ts): here it must stay under {@link WINDOW_MS}.
 * Every loop and wait is bounded.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL, hasPostgres, uniqueSchema } from "../support/db.js";
import { startBlackHole, type BlackHole } from "./blackhole.js";
import { expectNoStaleRead, missed, startTraffic, until, watch, watchOutage } from "./cache-traffic.js";

describe.skipIf(!hasPostgres)("the read cache when its LISTEN connection fails", () => {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const sql = async (text: string, params: unknown[] = []) => (await admin.query(text, params)).rows;
  const schema = uniqueSchema("cachefault");
  const pools: pg.Pool[] = [];
  const managers: Sessions[] = [];
  const holes: BlackHole[] = [];

  function pool(max = 4): pg.Pool {
    const made = new pg.Pool({ connectionString: DATABASE_URL, max });
    made.on("error", () => {});
    pools.push(made);
    return made;
  }

  function manager(cache?: NonNullable<Parameters<typeof createSessions>[0]>["cache"]): Sessions {
    const made = createSessions({ store: pgStore(pool()), schema, prune: false, ...(cache && { cache }) });
    managers.push(made);
    return made;
  }

  /** `count` stored sessions holding `{ n: 0 }`; their Cookie headers. */
  async function sessionsOf(sessions: Sessions, count: number): Promise<string[]> {
    const cookies: string[] = [];
    for (let i = 0; i < count; i++) {
      const session = await sessions.resolve(undefined);
      session.set("n", 0);
      cookies.push(((await sessions.commit(session)) as string).split(";")[0] as string);
    }
    return cookies;
  }

  async function answering(sessions: Sessions, cookie: string): Promise<number> {
    return until("the cache answers", async () => {
      await sessions.resolve(cookie);
      return sessions.cacheStatus()?.answering === true && (sessions.cacheStatus()?.entries ?? 0) > 0;
    });
  }

  const warnings: string[] = [];
  const warn = console.warn;
  beforeAll(async () => {
    console.warn = (message: string) => void warnings.push(String(message));
    await createSessions({ store: pgStore(pool(1)), schema, cache: { listen: DATABASE_URL } }).migrate();
  });
  afterAll(async () => {
    console.warn = warn;
    for (const sessions of managers) await sessions.close();
    for (const hole of holes) await hole.close();
    for (const made of pools) await made.end().catch(() => {});
    await sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it("pg_terminate_backend on the listener during traffic: flushed and bypassed at once, never stale, back by itself", async () => {
    const name = `pgsession_fault_${schema}`;
    const cached = manager({ heartbeat: "100ms", listen: { connectionString: DATABASE_URL, application_name: name } });
    const writer = manager();
    const [victimCookie, ...cookies] = await sessionsOf(cached, 7);
    for (const cookie of [victimCookie as string, ...cookies]) await answering(cached, cookie);
    const traffic = startTraffic(cached, writer, cookies);
    await sleep(300);
    const outage = watchOutage(cached);
    const [{ killed }] = await sql(
      `SELECT count(pg_terminate_backend(pid))::int AS killed FROM pg_stat_activity WHERE application_name = $1`,
      [name],
    );
    expect(killed).toBe(1);
    // A write committed while the listener is gone: its notification reaches no one.
    let stopWatching = () => {};
    const watched = watch(cached, victimCookie as string, new Promise<void>((resolve) => (stopWatching = resolve)));
    const victim = await writer.resolve(victimCookie);
    victim.set("n", 1_000_000);
    await writer.commit(victim);
    const writtenAt = performance.now();
    const { lostAt, backAt } = await outage;
    await sleep(300);
    stopWatching();
    await traffic.stop();
    expect(traffic.reads.some((read) => read.startedAt > backAt && read.hit)).toBe(true); // back, by itself
    expect(backAt - lostAt).toBeLessThan(3_000);
    expectNoStaleRead(traffic, lostAt, backAt);
    // The write made while nobody listened is never missed, before or after the cache is back.
    const victimReads = await watched;
    expect(victimReads.filter((read) => read.startedAt > backAt + 100).length).toBeGreaterThan(0);
    expect(missed(victimReads, 1_000_000, writtenAt, { lostAt, backAt })).toEqual([]);
    expect(warnings.some((line) => line.includes(schema) && /is bypassed: .*; reconnecting/.test(line))).toBe(true);
  }, 30_000);

  it("a listener whose network goes silent stops answering within twice the heartbeat, never stale after, and comes back", async () => {
    const url = new URL(DATABASE_URL);
    const hole = await startBlackHole({ host: url.hostname, port: Number(url.port || 5432) }, "forward");
    holes.push(hole);
    const heartbeatMs = 100;
    const cached = manager({
      heartbeat: `${heartbeatMs}ms`,
      listen: {
        host: "127.0.0.1",
        port: hole.port,
        user: decodeURIComponent(url.username || "postgres"),
        database: decodeURIComponent(url.pathname.slice(1)),
      },
    });
    const writer = manager();
    const cookies = await sessionsOf(cached, 4);
    for (const cookie of cookies) await answering(cached, cookie);
    const traffic = startTraffic(cached, writer, cookies, 2);
    await sleep(200);
    const outage = watchOutage(cached);
    hole.setMode("blackhole");
    const silentAt = performance.now();
    // The last heartbeat answered was sent before the silence: the cache vouches for no more
    // than twice the heartbeat after it, and drops the connection one heartbeat later.
    const leaseEnd = silentAt + 2 * heartbeatMs;
    await until("the silent connection is dropped", () => (cached.cacheStatus()?.losses ?? 0) > 0);
    expect(performance.now() - silentAt).toBeLessThanOrEqual(3 * heartbeatMs + 150);
    await sleep(300);
    hole.setMode("forward");
    const { backAt } = await outage;
    await sleep(300);
    await traffic.stop();
    // Between the silence and the lease's end reads may trail a change (the documented bound); after it, none.
    const slack = 25;
    expectNoStaleRead(traffic, leaseEnd + slack, backAt);
    expect(traffic.reads.some((read) => read.startedAt > backAt && read.hit)).toBe(true);
  }, 30_000);
});
