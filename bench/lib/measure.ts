/**
 * One measured run: warm-up, then wrk against one server and one scenario, with the
 * database work per request and the server's memory.
 * @module
 */
import type pg from "pg";
import { runWrk, type WrkResult } from "./load.js";
import { readCounters, workPerRequest, type DbWork } from "./pgstats.js";
import { cpuSeconds, flushServerStats, machineCpu, residentMiB, tableOf, type RunningServer } from "./servers.js";

/** The scenarios of every session server. */
export const SCENARIOS = ["read", "write", "login"] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** One measured run. */
export interface RunRecord {
  server: string;
  scenario: Scenario;
  round: number;
  rps: number;
  requests: number;
  p50Us: number;
  p99Us: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
  rssMiB: number | null;
  /** CPU time of the server process per request (user + system), in microseconds. */
  serverCpuUs: number | null;
  /** CPU time of the PostgreSQL backends of the benchmark database per request, in microseconds. */
  dbCpuUs: number | null;
  /** Share of the machine's CPU time busy during the run (every process: wrk, PostgreSQL, others). */
  machineBusy: number | null;
  /** WAL written per request (the cluster's WAL insert position before and after the run), bytes; full-page images after a checkpoint included. */
  walBytes?: number | null;
  /** Database work per request (measured in the first round only). */
  work: DbWork | null;
}

/** How long and how hard to load. */
export interface LoadShape {
  connections: number;
  threads: number;
  durationS: number;
  warmupS: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// PostgreSQL 15 flushes a backend's statistics at most once a second: wait past that,
// then make every backend of the server's pool run one statement.
const FLUSH_WAIT_MS = 1100;

/**
 * Waits past PostgreSQL's statistics interval, then has every pool connection of each server
 * flush its counters, so that no earlier work of theirs is counted in a later run.
 *
 * @example
 * ```ts
 * await flushStats(servers); // after pre-creating sessions on all of them
 * ```
 */
export async function flushStats(servers: readonly RunningServer[]): Promise<void> {
  await sleep(FLUSH_WAIT_MS);
  for (const server of servers) await flushServerStats(server);
}

/** The backends connected to the benchmark's database, except the one asking. */
async function backendPids(db: pg.Pool): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
  return rows.map((row) => row.pid);
}

/**
 * The cluster's WAL insert position, in bytes (null where the function is refused). The
 * whole cluster's: on a machine where only the benchmark writes, the difference over a run
 * is what that run's server made PostgreSQL write.
 */
async function walPosition(db: pg.Pool): Promise<number | null> {
  try {
    const { rows } = await db.query<{ at: string }>("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS at");
    return Number(rows[0]?.at);
  } catch {
    return null;
  }
}

/** Total CPU seconds of processes (null when /proc is unavailable; exited ones count 0). */
function sumCpu(pids: number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const cpu = cpuSeconds(pid);
    if (cpu === null && process.platform !== "linux") return null;
    total += cpu ?? 0;
  }
  return total;
}

/**
 * Measures one scenario on a running server.
 *
 * @example
 * ```ts
 * const record = await measureRun(server, "read", cookieFile, shape, { round: 1, db: pool, counters: true, schema: "pgsession_bench" });
 * ```
 */
export async function measureRun(server: RunningServer, scenario: Scenario, cookieFile: string | null, shape: LoadShape, options: {
  round: number;
  /** Pool of the benchmark's database (statistics, backend pids). */
  db: pg.Pool;
  /** Count statements and row writes (adds two statistics flushes of about a second each). */
  counters: boolean;
  schema: string;
  table?: string;
}): Promise<RunRecord> {
  const path = server.spec.kind === "ceiling" ? "/" : `/${scenario}`;
  const cookies = scenario === "login" ? null : cookieFile;
  const load = { port: server.port, path, cookieFile: cookies, connections: shape.connections, threads: shape.threads };
  if (shape.warmupS > 0) await runWrk({ ...load, durationS: shape.warmupS });
  const table = options.table ?? tableOf(server.spec.name);
  let before = null;
  if (options.counters) {
    await sleep(FLUSH_WAIT_MS);
    await flushServerStats(server);
    before = await readCounters(options.db, options.schema, table);
  }
  const backends = await backendPids(options.db);
  const walBefore = await walPosition(options.db);
  const dbBefore = sumCpu(backends);
  const cpuBefore = cpuSeconds(server.pid);
  const machineBefore = machineCpu();
  const result: WrkResult = await runWrk({ ...load, durationS: shape.durationS });
  const cpuAfter = cpuSeconds(server.pid);
  const dbAfter = sumCpu(backends);
  const machineAfter = machineCpu();
  const walAfter = await walPosition(options.db);
  const rssMiB = residentMiB(server.pid);
  const serverCpuUs = cpuBefore !== null && cpuAfter !== null && result.requests > 0 ? ((cpuAfter - cpuBefore) * 1e6) / result.requests : null;
  const dbCpuUs = dbBefore !== null && dbAfter !== null && result.requests > 0 ? ((dbAfter - dbBefore) * 1e6) / result.requests : null;
  const machineBusy = machineBefore && machineAfter ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total) : null;
  const walBytes = walBefore !== null && walAfter !== null && result.requests > 0 ? (walAfter - walBefore) / result.requests : null;
  let work: DbWork | null = null;
  if (before) {
    await sleep(FLUSH_WAIT_MS);
    const flushed = await flushServerStats(server);
    const after = await readCounters(options.db, options.schema, table);
    // Overhead: the flush's statements and the "before" read of the statistics.
    work = workPerRequest(before, after, result.requests, flushed + 1);
  }
  const e = result.errors;
  return {
    server: server.spec.name, scenario, round: options.round, rps: result.rps, requests: result.requests,
    p50Us: result.p50Us, p99Us: result.p99Us, errors: e.connect + e.read + e.write + e.status + e.timeout, rssMiB, serverCpuUs, dbCpuUs, machineBusy, walBytes, work,
  };
}
