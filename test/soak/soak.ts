/**
 * Soak: mixed login / read / write / rotate / logout traffic from many concurrent clients,
 * through the node:http adapter on loopback, against the real PostgreSQL server, for a
 * bounded time. Fails (exit 1) on any 5xx, any lost write (every client checks its own
 * count on every read, and the database is checked at the end), heap after GC above its
 * post-warm-up level by more than a small margin, or connections not back at rest.
 *
 *   node --expose-gc --import tsx test/soak/soak.ts [--seconds 90] [--clients 32] [--out .reliability/soak.json]
 *   npm run soak -- --seconds 600
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { Client, COOKIE, serveApp, sumTallies, type Data } from "../faults/app.js";
import { captureConsole, poolSettled, verifyWrites } from "../faults/harness.js";
import { uniqueSchema } from "../support/db.js";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "90" },
    clients: { type: "string", default: "32" },
    warmup: { type: "string" },
    pool: { type: "string", default: "10" },
    out: { type: "string", default: ".reliability/soak.json" },
  },
});
const seconds = Math.max(5, Math.min(24 * 3600, Number(args.seconds)));
const clientCount = Math.max(1, Math.min(1000, Number(args.clients)));
const warmupSeconds = Math.max(2, Math.min(seconds / 3, Number(args.warmup ?? Math.min(15, seconds / 5))));
const poolMax = Math.max(1, Math.min(100, Number(args.pool)));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
/** Heap after GC may end this much above its post-warm-up level: 10 % plus 4 MiB. */
const HEAP_MARGIN = (baseline: number) => baseline * 0.1 + 4 * 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("soak: run with --expose-gc (npm run soak does)");
  process.exit(2);
}

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  return process.memoryUsage().heapUsed;
}

/** Latency histogram in 0.1 ms buckets up to 10 s, allocated once so it does not grow the heap. */
const histogram = new Uint32Array(100_001);
const record = (_status: number, elapsedMs: number) => {
  histogram[Math.min(100_000, Math.round(elapsedMs * 10))]! += 1;
};
function percentile(p: number): number {
  const total = histogram.reduce((sum, n) => sum + n, 0);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i]!;
    if (seen >= total * p) return i / 10;
  }
  return histogram.length / 10;
}

async function main(): Promise<number> {
  const probe = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3_000 });
  try {
    await probe.connect();
  } catch (err) {
    const reason = `PostgreSQL at ${DATABASE_URL} is unreachable (${(err as Error).message})`;
    if (process.env.PGSESSION_REQUIRE_POSTGRES === "1") throw new Error(reason, { cause: err });
    console.warn(`SKIPPING soak: ${reason}`);
    return 0;
  } finally {
    await probe.end().catch(() => {});
  }

  const schema = uniqueSchema("soak");
  const applicationName = `pgsession_${schema}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  admin.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: poolMax, application_name: applicationName });
  pool.on("error", () => {}); // the owner listens to idle-connection errors (backends are killed on purpose)
  const sessions = createSessions<Data>({ store: pgStore(pool), schema, cookie: { name: COOKIE } });
  await sessions.migrate();
  const server = await serveApp(sessions);
  const logs = captureConsole();
  const violations: string[] = [];
  const failures: string[] = [];
  const clients = Array.from(
    { length: clientCount },
    (_, i) => new Client(server.base, `soak${i}`, violations, { timeoutMs: 10_000, keepTokens: false, onAnswer: record }),
  );
  const counts = { logins: 0, reads: 0, writes: 0, bursts: 0, rotations: 0, logouts: 0 };
  const started = Date.now();
  const deadline = started + seconds * 1000;
  let baselineHeap = 0;
  let peakHeap = 0;
  let peakRss = 0;
  let baselinePool = { total: 0, idle: 0 };
  let warm = false;
  let verifiedBeforeLogout = 0;

  const sampler = setInterval(() => {
    const { heapUsed, rss } = process.memoryUsage();
    if (warm) {
      peakHeap = Math.max(peakHeap, heapUsed);
      peakRss = Math.max(peakRss, rss);
    }
  }, 250);
  const warmup = (async () => {
    await sleep(warmupSeconds * 1000);
    baselineHeap = await settledHeap();
    baselinePool = { total: pool.totalCount, idle: pool.idleCount };
    peakHeap = baselineHeap;
    warm = true;
  })();

  const drive = async (client: Client, seed: number) => {
    let step = 0;
    // Bounded in time and in count.
    for (; Date.now() < deadline && step < 10_000_000; step++) {
      if (client.id === null) {
        counts.logins++;
        await client.login((seed + step) % 5 === 0);
        continue;
      }
      const dice = Math.random();
      if (dice < 0.55) {
        counts.reads++;
        await client.read(true);
      } else if (dice < 0.85) {
        counts.writes++;
        await client.write();
      } else if (dice < 0.9) {
        counts.bursts++;
        // Parallel writes of different keys to one session: all must survive.
        await Promise.all([client.write(), client.write(), client.write(), client.write()]);
      } else if (dice < 0.93) {
        counts.rotations++;
        await client.rotate();
      } else if (dice < 0.97) {
        counts.logouts++;
        // The session's last read checks every write it acknowledged, before it goes.
        const acked = client.acked.size;
        const before = violations.length;
        if ((await client.read(true)) === 200 && violations.length === before) verifiedBeforeLogout += acked;
        await client.logout();
      } else {
        counts.logins++;
        await client.login(false);
      }
    }
  };
  await Promise.all(clients.map((client, i) => drive(client, i)));
  await warmup;
  clearInterval(sampler);
  const elapsedSeconds = (Date.now() - started) / 1000;

  // Every write acknowledged in a live session is in the database.
  const writesVerifiedAtEnd = await verifyWrites(
    async (text, params) => (await admin.query(text, params)).rows,
    schema,
    clients,
    violations,
  );
  const finalPool = await poolSettled(pool);
  const serverConnections = (
    await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName])
  ).rows[0].n as number;
  await server.close();
  const finalHeap = await settledHeap();
  logs.restore();
  await sessions.close();
  await pool.end();
  let leftAfterEnd = -1;
  for (let i = 0; i < 100; i++) {
    leftAfterEnd = (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1", [applicationName]))
      .rows[0].n as number;
    if (leftAfterEnd === 0) break;
    await sleep(50);
  }
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();

  const tally = sumTallies(clients);
  const writesVerified = verifiedBeforeLogout + writesVerifiedAtEnd;
  if (writesVerified !== tally.writesAcked) failures.push(`${tally.writesAcked} writes acknowledged, ${writesVerified} verified`);
  if (tally.serverErrors > 0) failures.push(`${tally.serverErrors} answers with a 5xx status`);
  if (violations.length > 0) failures.push(`${violations.length} violations, first: ${violations.slice(0, 5).join(" / ")}`);
  if (finalHeap > baselineHeap + HEAP_MARGIN(baselineHeap))
    failures.push(`heap after GC grew from ${mb(baselineHeap)} to ${mb(finalHeap)} MiB`);
  if (finalPool.waiting !== 0 || finalPool.idle !== finalPool.total) failures.push(`pool not at rest: ${JSON.stringify(finalPool)}`);
  if (finalPool.total > poolMax || serverConnections !== finalPool.total)
    failures.push(`connections: pool ${finalPool.total}, server ${serverConnections}, max ${poolMax}`);
  if (leftAfterEnd !== 0) failures.push(`${leftAfterEnd} server connections left after the pool ended`);
  if (logs.lines.length > 0) failures.push(`${logs.lines.length} lines logged on a healthy run, first: ${logs.lines[0]}`);

  const report = {
    ok: failures.length === 0,
    failures,
    finishedAt: new Date().toISOString(),
    seconds: Math.round(elapsedSeconds),
    warmupSeconds,
    clients: clientCount,
    poolMax,
    requests: tally.requests,
    requestsPerSecond: Math.round(tally.requests / elapsedSeconds),
    ok2xx: tally.ok,
    serverErrors: tally.serverErrors,
    violations: violations.length,
    operations: counts,
    writesAcked: tally.writesAcked,
    writesVerified,
    writesVerifiedBeforeLogout: verifiedBeforeLogout,
    writesVerifiedInDatabaseAtEnd: writesVerifiedAtEnd,
    latencyMs: { p50: percentile(0.5), p99: percentile(0.99), max: Math.round(tally.maxElapsedMs * 10) / 10 },
    heapMiB: { afterWarmup: mb(baselineHeap), peak: mb(peakHeap), final: mb(finalHeap), marginMiB: mb(HEAP_MARGIN(baselineHeap)) },
    rssPeakMiB: mb(peakRss),
    pool: {
      afterWarmup: baselinePool,
      final: finalPool,
      serverConnectionsAtEnd: serverConnections,
      serverConnectionsAfterEnd: leftAfterEnd,
    },
    logLines: logs.lines.length,
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  return report.ok ? 0 : 1;
}

function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error("soak failed:", err);
    process.exit(1);
  },
);
