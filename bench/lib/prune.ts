/**
 * The prune benchmark: many expired rows among live ones, removed by the library's
 * `sessions.prune()` in bounded batches while /read runs against a pgsession server.
 * @module
 */
import pg from "pg";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { runWrk, createSessionCookies, type WrkResult } from "./load.js";
import type { LoadShape } from "./measure.js";
import { SERVERS, startServer, stopServer } from "./servers.js";

/** What the prune benchmark measured. */
export interface PruneReport {
  expiredRows: number;
  liveRows: number;
  batchSize: number;
  /** The pause between batches, in ms (absent in reports written before it existed: none). */
  pauseMs?: number;
  seedSeconds: number;
  deleted: number;
  durationS: number;
  rowsPerS: number;
  /** /read without a prune running, before it. */
  baseline: { rps: number; p50Us: number; p99Us: number; errors: number };
  /** /read without a prune running, after it (absent in reports written before it existed). */
  baselineAfter?: { rps: number; p50Us: number; p99Us: number; errors: number };
  /** /read while the prune ran (wrk stopped when the prune finished). */
  during: { rps: number; p50Us: number; p99Us: number; errors: number };
  /**
   * p99 during / the lower of the two baselines' p99: a single 5 s baseline on a shared
   * host can itself catch a slow spell, and the lower one makes the ratio the stricter.
   */
  p99Ratio: number;
  rowsLeft: number;
}

/** Settings of the prune benchmark. */
export interface PruneSettings {
  databaseUrl: string;
  schema: string;
  port: number;
  poolSize: number;
  expired: number;
  live: number;
  sessions: number;
  batchSize: number;
  /** The pause between batches, in ms. */
  pauseMs: number;
  baselineS: number;
  shape: LoadShape;
  cookieFile: string;
}

const TABLE = "prune_bench";

/** Inserts `count` rows, expired or live, with one INSERT ... SELECT generate_series. */
async function seed(pool: pg.Pool, schema: string, count: number, expired: boolean, offset: number): Promise<void> {
  const idle = expired ? "now() - interval '1 hour'" : "now() + interval '1 day'";
  await pool.query(
    `INSERT INTO "${schema}"."${TABLE}" (id, token_hash, data, created_at, last_seen_at, idle_timeout, touch_after,
            idle_expires_at, absolute_expires_at)
     SELECT md5('seed' || i), sha256(convert_to('seed' || i, 'UTF8')), '{"userId":"seeded","n":0}',
            now() - interval '2 days', now() - interval '2 days', interval '1 day', interval '144 minutes',
            ${idle}, now() + interval '5 days'
       FROM generate_series($1::integer + 1, $1::integer + $2::integer) AS i`,
    [offset, count],
  );
}

const summary = (r: WrkResult) => ({
  rps: r.rps,
  p50Us: r.p50Us,
  p99Us: r.p99Us,
  errors: r.errors.connect + r.errors.read + r.errors.write + r.errors.status + r.errors.timeout,
});

/**
 * Runs the prune benchmark end to end (its own server process and table, dropped after).
 *
 * @example
 * ```ts
 * const report = await runPruneBench({ databaseUrl, schema, port: 21190, poolSize: 10, expired: 1e6, live: 1e5, ... });
 * ```
 */
export async function runPruneBench(settings: PruneSettings, log: (line: string) => void): Promise<PruneReport> {
  const spec = SERVERS.find((s) => s.name === "pgsession-node");
  if (!spec) throw new Error("pgsession-node is not a known server");
  const admin = new pg.Pool({ connectionString: settings.databaseUrl, max: 2 });
  const server = await startServer(spec, { ...settings, table: TABLE });
  try {
    await createSessionCookies(server.port, "session", settings.sessions, settings.cookieFile);
    const seedStart = performance.now();
    await seed(admin, settings.schema, settings.expired, true, 0);
    await seed(admin, settings.schema, settings.live, false, settings.expired);
    await admin.query(`VACUUM ANALYZE "${settings.schema}"."${TABLE}"`);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    log(`  seeded ${settings.expired} expired and ${settings.live} live rows in ${seedSeconds.toFixed(1)} s`);
    const load = {
      port: server.port,
      path: "/read",
      cookieFile: settings.cookieFile,
      connections: settings.shape.connections,
      threads: settings.shape.threads,
    };
    await runWrk({ ...load, durationS: settings.shape.warmupS || 1 });
    const baseline = await runWrk({ ...load, durationS: settings.baselineS });
    log(`  /read without prune: ${baseline.rps.toFixed(0)} req/s, p99 ${(baseline.p99Us / 1000).toFixed(1)} ms`);

    // The prune runs in this process, through the public API, with a pool of its own.
    const pruner = createSessions({
      store: pgStore({ connectionString: settings.databaseUrl, max: 2 }),
      schema: settings.schema,
      table: TABLE,
    });
    const stop = new AbortController();
    const during = runWrk({ ...load, durationS: 900, stop: stop.signal });
    const start = performance.now();
    let deleted: number;
    try {
      deleted = await pruner.prune({ batchSize: settings.batchSize, pause: settings.pauseMs });
    } finally {
      stop.abort();
      await pruner.close();
    }
    const durationS = (performance.now() - start) / 1000;
    const loaded = await during;
    const after = await runWrk({ ...load, durationS: settings.baselineS });
    log(`  /read after the prune: ${after.rps.toFixed(0)} req/s, p99 ${(after.p99Us / 1000).toFixed(1)} ms`);
    const rowsLeft = Number((await admin.query(`SELECT count(*) AS n FROM "${settings.schema}"."${TABLE}"`)).rows[0]?.n);
    log(
      `  prune: ${deleted} rows in ${durationS.toFixed(1)} s; /read meanwhile ${loaded.rps.toFixed(0)} req/s, p99 ${(loaded.p99Us / 1000).toFixed(1)} ms`,
    );
    return {
      expiredRows: settings.expired,
      liveRows: settings.live,
      batchSize: settings.batchSize,
      pauseMs: settings.pauseMs,
      seedSeconds,
      deleted,
      durationS,
      rowsPerS: deleted / durationS,
      baseline: summary(baseline),
      baselineAfter: summary(after),
      during: summary(loaded),
      p99Ratio: loaded.p99Us / Math.min(baseline.p99Us, after.p99Us),
      rowsLeft,
    };
  } finally {
    await stopServer(server);
    await admin.query(`DROP TABLE IF EXISTS "${settings.schema}"."${TABLE}", "${settings.schema}"."${TABLE}_migrations"`).catch(() => {});
    await admin.end();
  }
}
