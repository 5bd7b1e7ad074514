/**
 * Issue 38.3: the read cache across a PostgreSQL restart (pg_ctl restart -m fast), under
 * traffic, on a throwaway cluster this test creates on its own loopback port (the shared
 * server is never touched; skipped, saying why, where no cluster can be made). Every
 * connection dies: the cache is flushed and bypassed from the moment the loss is observed,
 * no read after it returns a value older than one committed before it started (a write
 * committed as the server came back, before the cache listened again, included), and the
 * cache comes back by itself. Bounded: the restart waits at most 30 s, the rest a few.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { REQUIRE_POSTGRES } from "../support/db.js";
import { expectNoStaleRead, missed, startTraffic, until, watch, watchOutage } from "./cache-traffic.js";
import { createThrowawayCluster, type ThrowawayCluster } from "./cluster.js";

describe("the read cache across a PostgreSQL restart (throwaway cluster)", () => {
  let cluster: ThrowawayCluster | null = null;
  let skipReason = "";
  const pools: pg.Pool[] = [];
  const managers: Sessions[] = [];
  const warn = console.warn;

  function pool(): pg.Pool {
    const made = new pg.Pool({
      host: "127.0.0.1",
      port: (cluster as ThrowawayCluster).port,
      user: "postgres",
      database: "postgres",
      max: 4,
      connectionTimeoutMillis: 1_000,
      query_timeout: 3_000,
    });
    made.on("error", () => {});
    pools.push(made);
    return made;
  }

  beforeAll(async () => {
    const made = await createThrowawayCluster();
    if (typeof made === "string") {
      if (REQUIRE_POSTGRES) throw new Error(`PGSESSION_REQUIRE_POSTGRES=1 but ${made}`);
      skipReason = made;
      console.warn(`SKIPPING the cache restart test: ${made}`);
      return;
    }
    cluster = made;
    console.warn = () => {}; // the cache says it is bypassed, then active again: expected here
  }, 120_000);
  afterAll(async () => {
    console.warn = warn;
    for (const sessions of managers) await sessions.close();
    for (const made of pools) await made.end().catch(() => {});
    await cluster?.remove();
  }, 60_000);

  it("flushed and bypassed while the server restarts, never stale, back by itself", async (ctx) => {
    if (!cluster) return ctx.skip(skipReason);
    const target = cluster;
    // The LISTEN connection comes from the pool's own config (the default).
    const cached = createSessions({ store: pgStore(pool()), prune: false, cache: { heartbeat: "100ms" } });
    const writer = createSessions({ store: pgStore(pool()), prune: false });
    managers.push(cached, writer);
    await cached.migrate();
    const cookies: string[] = [];
    for (let i = 0; i < 5; i++) {
      const session = await cached.resolve(undefined);
      session.set("n", 0);
      cookies.push(((await cached.commit(session)) as string).split(";")[0] as string);
    }
    for (const cookie of cookies) {
      await until("the cache answers", async () => {
        await cached.resolve(cookie);
        return cached.cacheStatus()?.answering === true && (cached.cacheStatus()?.entries ?? 0) > 0;
      });
    }
    const victimCookie = cookies.pop() as string;
    const traffic = startTraffic(cached, writer, cookies, 2);
    await sleep(300);
    const outage = watchOutage(cached, 40_000);
    await target.restart("fast");
    let stopWatching = () => {};
    const watched = watch(cached, victimCookie, new Promise<void>((resolve) => (stopWatching = resolve)));
    // As soon as the server takes writes again: a write the cache, reconnecting, may never hear of.
    let writtenAt = 0;
    await until(
      "the server takes writes again",
      async () => {
        try {
          const victim = await writer.resolve(victimCookie);
          victim.set("n", 1_000_000);
          await writer.commit(victim);
          writtenAt = performance.now();
          return true;
        } catch {
          return false;
        }
      },
      30_000,
    );
    const { lostAt, backAt } = await outage;
    await sleep(300);
    stopWatching();
    await traffic.stop();
    expect(backAt - lostAt).toBeLessThan(10_000);
    expectNoStaleRead(traffic, lostAt, backAt);
    expect(traffic.reads.some((read) => read.startedAt > backAt && read.hit)).toBe(true);
    const victimReads = await watched;
    expect(victimReads.filter((read) => read.startedAt > writtenAt + 100).length).toBeGreaterThan(0);
    expect(missed(victimReads, 1_000_000, writtenAt, { lostAt, backAt })).toEqual([]);
    expect(traffic.failures).toBeGreaterThan(0); // the restart was felt
  }, 60_000);
});
