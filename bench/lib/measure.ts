/**
 * One measured run: warm-up, then wrk against one server and one scenario, with the
 * database work per request and the server's memory.
 * @module
 */
import type pg from "pg";
import { runWrk, type LoadOptions, type WrkResult } from "./load.js";
import { median } from "./summary.js";
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
  /** Interleaved slices this record sums (see {@link measureInterleaved}); absent for one continuous run. */
  slices?: number;
}

/** How long and how hard to load. */
export interface LoadShape {
  connections: number;
  threads: number;
  durationS: number;
  warmupS: number;
  /** Length of one slice when servers are measured interleaved ({@link measureInterleaved}), seconds. */
  sliceS: number;
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
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
  );
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

/** wrk's settings for one server and scenario, all but the duration. */
type WrkTarget = Omit<LoadOptions, "durationS">;

/** What one window of load on one server cost: wrk's result, and the CPU and WAL spent meanwhile. */
interface Window {
  result: WrkResult;
  serverCpuS: number | null;
  dbCpuS: number | null;
  machine: { busy: number; total: number } | null;
  walBytes: number | null;
}

/** Runs wrk once on a warm server and reads the CPU and WAL counters around it. */
async function measureWindow(server: RunningServer, load: WrkTarget, durationS: number, db: pg.Pool): Promise<Window> {
  const backends = await backendPids(db);
  const walBefore = await walPosition(db);
  const dbBefore = sumCpu(backends);
  const cpuBefore = cpuSeconds(server.pid);
  const machineBefore = machineCpu();
  const result = await runWrk({ ...load, durationS });
  const cpuAfter = cpuSeconds(server.pid);
  const dbAfter = sumCpu(backends);
  const machineAfter = machineCpu();
  const walAfter = await walPosition(db);
  const delta = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);
  return {
    result,
    serverCpuS: delta(cpuBefore, cpuAfter),
    dbCpuS: delta(dbBefore, dbAfter),
    walBytes: delta(walBefore, walAfter),
    machine:
      machineBefore && machineAfter
        ? { busy: machineAfter.busy - machineBefore.busy, total: machineAfter.total - machineBefore.total }
        : null,
  };
}

const sum = (values: (number | null)[]): number | null => (values.includes(null) ? null : (values as number[]).reduce((a, b) => a + b, 0));

/** One record from one or more windows on the same server: totals over all of them, latencies the median window's. */
function toRecord(server: RunningServer, scenario: Scenario, round: number, windows: Window[], work: DbWork | null): RunRecord {
  const requests = windows.reduce((n, w) => n + w.result.requests, 0);
  const durationUs = windows.reduce((n, w) => n + w.result.durationUs, 0);
  const perRequest = (total: number | null, scale: number) => (total !== null && requests > 0 ? (total * scale) / requests : null);
  const busy = sum(windows.map((w) => w.machine?.busy ?? null));
  const total = sum(windows.map((w) => w.machine?.total ?? null));
  const errors = windows.reduce((n, { result: { errors: e } }) => n + e.connect + e.read + e.write + e.status + e.timeout, 0);
  return {
    server: server.spec.name,
    scenario,
    round,
    rps: durationUs > 0 ? requests / (durationUs / 1e6) : 0,
    requests,
    p50Us: median(windows.map((w) => w.result.p50Us)),
    p99Us: median(windows.map((w) => w.result.p99Us)),
    errors,
    rssMiB: residentMiB(server.pid),
    serverCpuUs: perRequest(sum(windows.map((w) => w.serverCpuS)), 1e6),
    dbCpuUs: perRequest(sum(windows.map((w) => w.dbCpuS)), 1e6),
    machineBusy: busy !== null && total ? busy / total : null,
    walBytes: perRequest(sum(windows.map((w) => w.walBytes)), 1),
    work,
    ...(windows.length > 1 ? { slices: windows.length } : {}),
  };
}

/** The wrk settings of one scenario on one server. */
function loadOf(server: RunningServer, scenario: Scenario, cookieFile: string | null, shape: LoadShape): WrkTarget {
  const path = server.spec.kind === "ceiling" ? "/" : `/${scenario}`;
  return {
    port: server.port,
    path,
    cookieFile: scenario === "login" ? null : cookieFile,
    connections: shape.connections,
    threads: shape.threads,
  };
}

/**
 * Measures one scenario on a running server.
 *
 * @example
 * ```ts
 * const record = await measureRun(server, "read", cookieFile, shape, { round: 1, db: pool, counters: true, schema: "pgsession_bench" });
 * ```
 */
export async function measureRun(
  server: RunningServer,
  scenario: Scenario,
  cookieFile: string | null,
  shape: LoadShape,
  options: {
    round: number;
    /** Pool of the benchmark's database (statistics, backend pids). */
    db: pg.Pool;
    /** Count statements and row writes (adds two statistics flushes of about a second each). */
    counters: boolean;
    schema: string;
    table?: string;
    /**
     * The other servers running meanwhile. Their backends' statistics are flushed too before
     * counting: the counters are the database's, and a backend that went idle less than a
     * second after its last flush reports its last transactions only 10 s later, inside this
     * run (seen as 2.05 statements per /write: about 850 reads of the server run before).
     */
    others?: readonly RunningServer[];
  },
): Promise<RunRecord> {
  const load = loadOf(server, scenario, cookieFile, shape);
  if (shape.warmupS > 0) await runWrk({ ...load, durationS: shape.warmupS });
  const table = options.table ?? tableOf(server.spec.name);
  let before = null;
  if (options.counters) {
    await flushStats([server, ...(options.others ?? []).filter((other) => other !== server)]);
    before = await readCounters(options.db, options.schema, table);
  }
  const window = await measureWindow(server, load, shape.durationS, options.db);
  let work: DbWork | null = null;
  if (before) {
    await sleep(FLUSH_WAIT_MS);
    const flushed = await flushServerStats(server);
    const after = await readCounters(options.db, options.schema, table);
    // Overhead: the flush's statements and the "before" read of the statistics.
    work = workPerRequest(before, after, window.result.requests, flushed + 1);
  }
  return toRecord(server, scenario, options.round, [window], work);
}

/** How many A B B A (A B C C B A) cycles {@link measureInterleaved} runs: each server gets about `durationS`, in two slices per cycle. */
export function sliceCycles(shape: Pick<LoadShape, "durationS" | "sliceS">): number {
  return Math.max(1, Math.round(shape.durationS / (2 * shape.sliceS)));
}

/**
 * Measures one scenario on two or more running servers in interleaved slices: all warm up,
 * then wrk loads them in turn, `sliceS` seconds at a time, in the order A B B A (with three:
 * A B C C B A) repeated until each has had `durationS`. On a shared machine the CPU left
 * free drifts within seconds: two back-to-back 5 s runs of the same server differed by up
 * to a fifth, and interleaving narrows that spread in the ratio by about 40 %
 * (docs/performance.md), while the mirrored order cancels a steady drift. Statements are
 * not counted here: the database's transaction counter cannot be split between servers
 * running seconds apart (see {@link measureRun}'s `counters`).
 *
 * @example
 * ```ts
 * const [a, b] = await measureInterleaved([pgsession, floor], "read", [fileA, fileB], shape, { round: 2, db: pool });
 * ```
 */
export async function measureInterleaved(
  servers: readonly RunningServer[],
  scenario: Scenario,
  cookieFiles: readonly (string | null)[],
  shape: LoadShape,
  options: { round: number; db: pg.Pool },
): Promise<RunRecord[]> {
  const loads = servers.map((server, i) => loadOf(server, scenario, cookieFiles[i] ?? null, shape));
  if (shape.warmupS > 0) for (const load of loads) await runWrk({ ...load, durationS: shape.warmupS });
  const windows: Window[][] = servers.map(() => []);
  const order = [...servers.keys(), ...[...servers.keys()].reverse()];
  const cycles = sliceCycles(shape);
  for (let cycle = 0; cycle < cycles; cycle++) {
    for (const i of order) {
      (windows[i] as Window[]).push(await measureWindow(servers[i] as RunningServer, loads[i] as WrkTarget, shape.sliceS, options.db));
    }
  }
  return servers.map((server, i) => toRecord(server, scenario, options.round, windows[i] as Window[], null));
}
