/**
 * The pgsession benchmark (issue 7): `npm run bench` (full) or `npm run bench -- --quick`.
 *
 * Starts each server as its own process, loads it with wrk (a separate process) over
 * pre-created sessions, several rounds alternating the servers, then a touch-heavy run
 * (HOT updates), CPU profiles of /read, and the prune benchmark. Writes results.json,
 * REPORT.md and chart.svg into bench/.results/ (git-ignored), or with `--publish` into
 * bench/results/, the report the repository keeps. See bench/README.md.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { createSessionCookies, runWrk } from "./lib/load.js";
import { flushStats, measureInterleaved, measureRun, SCENARIOS, type LoadShape, type RunRecord } from "./lib/measure.js";
import { describeDatabase, ensureDatabase } from "./lib/pgstats.js";
import { summarizeProfile, type ProfileSummary } from "./lib/profile.js";
import { runPruneBench, type PruneReport } from "./lib/prune.js";
import type { CacheMemoryResult } from "./lib/cache-memory.js";
import { runRevocationBench, type RevocationReport } from "./lib/revocation.js";
import { runBigTableBench, type BigTableReport } from "./lib/big-table.js";
import { writeReport, type BenchResults } from "./lib/report.js";
import {
  compileServers,
  isInterleaved,
  roundOrder,
  SERVERS,
  startServer,
  stopServer,
  type RunningServer,
  type ServerSpec,
} from "./lib/servers.js";
import { startPgbouncer, type RunningPgbouncer } from "../test/support/pgbouncer.js";

const USAGE = `usage: npm run bench -- [--quick] [--rounds N] [--duration S] [--warmup S] [--slice S]
  [--connections N] [--threads N] [--sessions N] [--pool N] [--servers a,b,c]
  [--prune-expired N] [--prune-live N] [--prune-pause MS] [--no-prune] [--no-hot] [--no-profile] [--profile-route R]
  [--no-revocation] [--revocation-trials N] [--big-table N] [--no-big-table]
  [--keep] [--report-only] [--publish | --out DIR] [--help]        (see bench/README.md)`;

const OPTIONS = {
  quick: { type: "boolean", default: false },
  rounds: { type: "string" },
  duration: { type: "string" },
  warmup: { type: "string" },
  slice: { type: "string" },
  connections: { type: "string" },
  threads: { type: "string" },
  sessions: { type: "string" },
  pool: { type: "string" },
  servers: { type: "string" },
  "prune-expired": { type: "string" },
  "prune-live": { type: "string" },
  "prune-pause": { type: "string" },
  "no-prune": { type: "boolean", default: false },
  "no-hot": { type: "boolean", default: false },
  "no-profile": { type: "boolean", default: false },
  "no-revocation": { type: "boolean", default: false },
  "revocation-trials": { type: "string" },
  "big-table": { type: "string" },
  "no-big-table": { type: "boolean", default: false },
  "profile-route": { type: "string", default: "/read" },
  keep: { type: "boolean", default: false },
  "report-only": { type: "boolean", default: false },
  publish: { type: "boolean", default: false },
  out: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Stops before anything starts: the message, then the usage, exit status 2. */
function stop(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  process.exit(2);
}

/** Parses the command line, or stops (see {@link stop}) rather than throwing a stack trace. */
function readFlags() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (err) {
    return stop((err as Error).message);
  }
}
const flags = readFlags();
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const quick = flags.quick === true;
const num = (value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0) stop(`expected a non-negative number, not ${JSON.stringify(value)}`);
  return parsed;
};
const config = {
  mode: quick ? "quick" : "full",
  rounds: num(flags.rounds, quick ? 3 : 7),
  shape: {
    connections: num(flags.connections, 50),
    threads: num(flags.threads, 2),
    durationS: num(flags.duration, quick ? 2 : 5),
    warmupS: num(flags.warmup, 1),
    sliceS: num(flags.slice, 1),
  } satisfies LoadShape,
  // The length of round 1's counted run of each pgsession server and floor alone.
  countS: quick ? 2 : 4,
  sessions: num(flags.sessions, 1000),
  poolSize: num(flags.pool, 10),
  pruneExpired: num(flags["prune-expired"], quick ? 100_000 : 1_000_000),
  pruneLive: num(flags["prune-live"], quick ? 10_000 : 100_000),
  pruneBatch: 1000,
  prunePauseMs: num(flags["prune-pause"], 20),
  profileS: quick ? 4 : 8,
  revocationTrials: num(flags["revocation-trials"], quick ? 100 : 300),
  // The big-table run: a full run fills 5,000,000 sessions; a quick one only when asked.
  bigTableRows: flags["no-big-table"] ? 0 : num(flags["big-table"], quick ? 0 : 5_000_000),
  bigTableRounds: quick ? 2 : 3,
  hotS: quick ? 3 : 6,
  // A database of its own: pg_stat_database counts every statement of the database it
  // describes, and other work on a shared database would be counted as the servers'.
  databaseUrl: process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/pgsession_bench",
  schema: "pgsession_bench",
  basePort: 21100,
};
// wrk takes its duration in whole seconds.
if (!Number.isInteger(config.shape.sliceS) || config.shape.sliceS < 1)
  stop(`--slice must be a whole number of seconds, at least 1, not ${flags.slice}`);
// A run's output goes to a git-ignored directory; only --publish writes the report the
// repository keeps, so that it changes when someone means to refresh it, not on every run.
if (flags.publish && flags.out !== undefined) stop("--publish writes bench/results/ and takes no --out");
const outDir = flags.out ?? fileURLToPath(new URL(flags.publish ? "./results/" : "./.results/", import.meta.url));
const ROUTES = ["/read", "/write", "/login"];
const profileRoute = flags["profile-route"];
if (!ROUTES.includes(profileRoute)) stop(`--profile-route must be one of ${ROUTES.join(", ")}, not ${profileRoute}`);
const serverNames = flags.servers?.split(",");
const unknownServers = serverNames?.filter((name) => !SERVERS.some((s) => s.name === name)) ?? [];
if (unknownServers.length > 0)
  stop(`no server named ${unknownServers.join(", ")}; the servers are ${SERVERS.map((s) => s.name).join(", ")}`);
// The servers behind pgbouncer run only when named: they need a pgbouncer installed.
const selected = serverNames ? SERVERS.filter((s) => serverNames.includes(s.name)) : SERVERS.filter((s) => !s.pooler);
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const portOf = (spec: ServerSpec) => config.basePort + SERVERS.indexOf(spec);
/** The run's pgbouncer, started when a selected server goes through it. */
let pgbouncer: RunningPgbouncer | null = null;
const launch = (spec: ServerSpec, extra: { table?: string; touchAfter?: string; nodeArgs?: string[]; port?: number } = {}) =>
  startServer(spec, {
    databaseUrl: spec.pooler ? pooledUrl() : config.databaseUrl,
    schema: config.schema,
    poolSize: config.poolSize,
    port: extra.port ?? portOf(spec),
    ...(spec.pooler && { preparedStatements: false }),
    ...extra,
  });
/** The benchmark database's name, which is also its alias in the run's pgbouncer. */
const databaseName = () => decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1));
function pooledUrl(): string {
  const url = pgbouncer?.urls[databaseName()];
  if (url === undefined) throw new Error("a server behind pgbouncer was launched before pgbouncer started");
  return url;
}
const specOf = (name: string) => SERVERS.find((s) => s.name === name) as ServerSpec;

async function withServer<T>(server: Promise<RunningServer>, fn: (server: RunningServer) => Promise<T>): Promise<T> {
  const running = await server;
  try {
    return await fn(running);
  } finally {
    await stopServer(running);
  }
}

/** Ends any checkpoint debt, so that every writing run starts in the same WAL state (no full-page images left over from the run before). */
async function checkpoint(stats: pg.Pool): Promise<void> {
  try {
    await stats.query("CHECKPOINT");
  } catch (err) {
    log(`  (CHECKPOINT refused: ${(err as Error).message}; runs are not aligned on checkpoints)`);
  }
}

/** One line of the run log per record. */
function logRecord(entry: RunRecord, note?: string): void {
  const w = entry.work
    ? `, ${entry.work.statementsPerRequest.toFixed(2)} stmt/req, ${entry.work.rowWritesPerRequest.toFixed(3)} row writes/req`
    : "";
  const cpu = `, CPU µs/req: server ${entry.serverCpuUs?.toFixed(0)}, db ${entry.dbCpuUs?.toFixed(0)}, WAL ${entry.walBytes?.toFixed(0)} B/req`;
  log(
    `  ${entry.server.padEnd(18)} ${entry.scenario.padEnd(5)} ${entry.rps.toFixed(0).padStart(6)} req/s  p99 ${(entry.p99Us / 1000).toFixed(1)} ms${cpu}${w}${entry.errors ? `, ${entry.errors} ERRORS` : ""}${note ? ` (${note})` : ""}`,
  );
}

/**
 * The rounds. Per round and block: the block's servers start together, then for each scenario
 * the interleaved group (pgsession's adapter, with the cache too when selected, and its
 * floor) runs interleaved, then the other servers each
 * in turn (every writing measurement after a checkpoint, every run after its own warm-up);
 * then they stop.
 */
async function runRounds(stats: pg.Pool, work: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  const cookieFiles = new Map<string, string>();
  for (let round = 1; round <= config.rounds; round++) {
    const blocks = roundOrder(selected, round);
    log(`round ${round}/${config.rounds}: ${blocks.map((b) => b.map((s) => s.name).join(" ")).join(" | ")}`);
    for (const block of blocks) {
      const servers: RunningServer[] = [];
      try {
        for (const spec of block) servers.push(await launch(spec));
        for (const server of servers) {
          const spec = server.spec;
          if (spec.cookie && !cookieFiles.has(spec.name)) {
            const file = join(work, `${spec.name}.cookies`);
            await createSessionCookies(server.port, spec.cookie, config.sessions, file);
            cookieFiles.set(spec.name, file);
          }
        }
        // The counters are the database's, so every server's logins above must be flushed
        // before the first run counts: an idle backend flushes its statistics only after
        // 10 s, in the middle of another server's run.
        if (round === 1) await flushStats(servers);
        // A pgsession adapter (and its variant with the cache) and its floor are measured
        // interleaved (measureInterleaved); their statements and row writes are counted once,
        // in round 1, by a run of each alone (recorded as round 0: counted, not part of the
        // throughput medians).
        const group = servers.filter((s) => isInterleaved(s.spec));
        const interleaved = group.length >= 2 && group.some((s) => s.spec.kind === "floor");
        const rest = interleaved ? servers.filter((s) => !group.includes(s)) : servers;
        for (const scenario of SCENARIOS) {
          if (interleaved) {
            if (round === 1) {
              for (const server of group) {
                if (scenario !== "read") await checkpoint(stats);
                const counted = await measureRun(
                  server,
                  scenario,
                  cookieFiles.get(server.spec.name) ?? null,
                  { ...config.shape, durationS: config.countS },
                  {
                    round: 0,
                    db: stats,
                    counters: true,
                    schema: config.schema,
                    others: servers,
                  },
                );
                runs.push(counted);
                logRecord(counted, "counted alone");
              }
            }
            if (scenario !== "read") await checkpoint(stats);
            const measured = await measureInterleaved(
              group,
              scenario,
              group.map((server) => cookieFiles.get(server.spec.name) ?? null),
              config.shape,
              { round, db: stats },
            );
            runs.push(...measured);
            for (const entry of measured) logRecord(entry, `${entry.slices} slices`);
          }
          for (const server of rest) {
            const spec = server.spec;
            if (spec.kind === "ceiling" && scenario !== "read") continue;
            if (scenario !== "read") await checkpoint(stats);
            const entry = await measureRun(server, scenario, cookieFiles.get(spec.name) ?? null, config.shape, {
              round,
              db: stats,
              counters: round === 1,
              schema: config.schema,
              others: servers,
            });
            runs.push(entry);
            logRecord(entry);
          }
        }
      } finally {
        await Promise.all(servers.map((server) => stopServer(server)));
      }
    }
  }
  return runs;
}

/** A /read run where every read is due a touch (touchAfter 0): are touches HOT updates? */
async function runHot(stats: pg.Pool, work: string): Promise<BenchResults["hot"]> {
  const table = "touch_bench";
  return withServer(launch(specOf("pgsession-node"), { table, touchAfter: "0ms", port: config.basePort + 50 }), async (server) => {
    const file = join(work, "touch.cookies");
    await createSessionCookies(server.port, "session", config.sessions, file);
    const record = await measureRun(
      server,
      "read",
      file,
      { ...config.shape, durationS: config.hotS },
      { round: 1, db: stats, counters: true, schema: config.schema, table },
    );
    const w = record.work;
    const hotRatio = w && w.rowsUpdated > 0 ? w.rowsHotUpdated / w.rowsUpdated : 0;
    log(`  touch-heavy /read: ${record.rps.toFixed(0)} req/s, ${w?.rowsUpdated} updates, HOT ${(hotRatio * 100).toFixed(1)} %`);
    return { record, hotRatio };
  });
}

/** CPU profiles of one route (`--profile-route`, /read by default) on pgsession's node:http server and on the floor, over the measured window only. */
async function runProfiles(work: string): Promise<Record<string, ProfileSummary>> {
  const profiles: Record<string, ProfileSummary> = {};
  for (const name of ["pgsession-node", "floor-node"]) {
    const dir = join(work, `profile-${name}`);
    const spec = specOf(name);
    let requests = 0;
    let window = { startUs: 0, endUs: 0 };
    await withServer(launch(spec, { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir] }), async (server) => {
      const file = join(work, `${name}.cookies`);
      const load = {
        port: server.port,
        path: profileRoute,
        // A login comes without a cookie, as in the measured runs (see loadOf).
        cookieFile: profileRoute === "/login" ? null : file,
        connections: config.shape.connections,
        threads: config.shape.threads,
      };
      await runWrk({ ...load, durationS: 2 });
      const startUs = Number(process.hrtime.bigint() / 1000n);
      const result = await runWrk({ ...load, durationS: config.profileS });
      window = { startUs, endUs: Number(process.hrtime.bigint() / 1000n) };
      requests = result.requests;
    });
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no CPU profile written for ${name}`);
    profiles[name] = summarizeProfile(join(dir, file), requests, window);
    log(`  profile ${name}: ${profiles[name].busyUsPerRequest.toFixed(1)} µs sampled per ${profileRoute} in the server process`);
  }
  return profiles;
}

/**
 * The read cache's extras, when a `-cache` server ran: bytes per cached session (a child
 * process with --expose-gc) and the revocation window across three processes, idle and busy.
 */
async function runCacheExtras(): Promise<NonNullable<BenchResults["cache"]> | null> {
  if (!selected.some((s) => s.kind === "cache")) return null;
  log("read cache: bytes per cached session");
  const probe = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", fileURLToPath(new URL("./cache-memory.ts", import.meta.url))],
    {
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  if (probe.status !== 0) throw new Error(`measuring the cache's memory failed:\n${probe.stdout}${probe.stderr}`);
  const memory = JSON.parse(probe.stdout) as CacheMemoryResult[];
  for (const m of memory) log(`  ${m.data}: ${m.bytesPerEntry.toFixed(0)} bytes per cached session`);
  const revocation: RevocationReport[] = [];
  if (!flags["no-revocation"]) {
    for (const busyLoops of [0, 4]) {
      log(`read cache: revocation window, 3 processes, ${busyLoops ? `${busyLoops} busy readers each` : "idle"}`);
      const report = await runRevocationBench(
        {
          databaseUrl: config.databaseUrl,
          schema: config.schema,
          processes: 3,
          trials: config.revocationTrials,
          pollMs: 1,
          heartbeatMs: 1000,
          busyLoops,
        },
        log,
      );
      log(`  p50 ${report.p50Ms.toFixed(1)} ms, p99 ${report.p99Ms.toFixed(1)} ms, max ${report.maxMs.toFixed(1)} ms`);
      revocation.push(report);
    }
  }
  return { memory, revocation };
}

/** The big-table run (`--big-table N`): pgsession-node on N sessions against the same server on the run's usual number. */
function runBig(stats: pg.Pool, work: string): Promise<BigTableReport> {
  return runBigTableBench(
    {
      databaseUrl: config.databaseUrl,
      schema: config.schema,
      port: config.basePort + 70,
      poolSize: config.poolSize,
      rows: config.bigTableRows,
      sample: config.sessions,
      rounds: config.bigTableRounds,
      shape: config.shape,
      batch: 500_000,
      fillDeadlineS: 1800,
      work,
      checkpoint: () => checkpoint(stats),
    },
    log,
  );
}

function checkWrk(): string {
  const probe = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  if (probe.error) throw new Error("wrk is not installed (Debian: apt-get install wrk)");
  return (probe.stdout + probe.stderr).split("\n")[0]?.trim() ?? "wrk";
}

async function main(): Promise<void> {
  if (flags["report-only"]) {
    // Re-renders REPORT.md and chart.svg from the output directory's results.json (after a
    // change to the report's layout; with --publish, the kept report's).
    writeReport(JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")) as BenchResults, outDir);
    log(`rewrote ${join(outDir, "REPORT.md")} from results.json`);
    return;
  }
  const wrkVersion = checkWrk();
  log("compiling the servers and the library (tsc)");
  compileServers();
  await ensureDatabase(config.databaseUrl);
  const stats = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
  const work = mkdtempSync(join(tmpdir(), "pgsession-bench-"));
  try {
    if (selected.some((s) => s.pooler)) {
      // Transaction mode, as pgbouncer runs in front of many instances; as many server
      // connections as each server's own pool, shared by the servers that go through it.
      pgbouncer = await startPgbouncer({
        upstream: config.databaseUrl,
        databases: [{ alias: databaseName(), poolMode: "transaction", poolSize: config.poolSize }],
      });
      log(`pgbouncer (pid ${pgbouncer.pid}) on 127.0.0.1:${pgbouncer.port}, transaction mode, pool_size ${config.poolSize}`);
    }
    const database = await describeDatabase(stats);
    await stats.query(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE; CREATE SCHEMA "${config.schema}"`);
    const loadBefore = loadavg();
    log(
      `${config.mode} run: ${config.rounds} rounds x ${config.shape.durationS} s, ${config.shape.connections} connections, ${config.sessions} sessions`,
    );
    const runs = await runRounds(stats, work);
    const hot = flags["no-hot"] ? null : await runHot(stats, work);
    const profiles =
      flags["no-profile"] || !selected.some((s) => s.name === "pgsession-node") || !selected.some((s) => s.name === "floor-node")
        ? {}
        : await runProfiles(work);
    const cache = await runCacheExtras();
    let prune: PruneReport | null = null;
    if (!flags["no-prune"]) {
      log(`prune: ${config.pruneExpired} expired among ${config.pruneLive} live rows`);
      prune = await runPruneBench(
        {
          databaseUrl: config.databaseUrl,
          schema: config.schema,
          port: config.basePort + 60,
          poolSize: config.poolSize,
          expired: config.pruneExpired,
          live: config.pruneLive,
          sessions: config.sessions,
          batchSize: config.pruneBatch,
          pauseMs: config.prunePauseMs,
          baselineS: Math.max(config.shape.durationS, 5),
          shape: config.shape,
          cookieFile: join(work, "prune.cookies"),
        },
        log,
      );
    }
    const bigTable = config.bigTableRows > 0 ? await runBig(stats, work) : null;
    const results: BenchResults = {
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        wrk: wrkVersion,
        postgres: database.version,
        pgSettings: database.settings,
        cpus: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
        loadBefore,
        loadAfter: loadavg(),
        durationS: (Date.now() - started) / 1000,
      },
      config: { ...config, databaseUrl: undefined, servers: selected.map((s) => s.name) },
      servers: selected,
      runs,
      hot,
      profiles,
      profileRoute,
      prune,
      cache,
      bigTable,
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    writeReport(results, outDir);
    log(
      `wrote ${join(outDir, "REPORT.md")}${flags.publish || flags.out !== undefined ? "" : " (not published: --publish writes bench/results/)"}`,
    );
    if (!flags.keep) await stats.query(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
  } finally {
    await pgbouncer?.stop();
    rmSync(work, { recursive: true, force: true });
    await stats.end();
  }
}

await main();
