/**
 * From runs to numbers: medians and spread per server and scenario, ratios, and the
 * targets of issue 7, each met or missed.
 * @module
 */
import type { RunRecord, Scenario } from "./measure.js";
import type { DbWork } from "./pgstats.js";

/** A server's numbers in one scenario. */
export interface Cell {
  server: string;
  scenario: Scenario;
  rounds: number;
  median: number;
  min: number;
  max: number;
  p50Us: number;
  p99Us: number;
  rssMiB: number | null;
  /** Median CPU time of the server process per request, µs. */
  serverCpuUs: number | null;
  /** Median CPU time of the benchmark database's backends per request, µs. */
  dbCpuUs: number | null;
  /** Median share of the machine busy during the runs. */
  machineBusy: number | null;
  /** Median WAL bytes per request (null in results written before it was measured). */
  walBytes: number | null;
  errors: number;
  work: DbWork | null;
}

/** The median (the mean of the two middle values for an even count). */
export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * Medians, min and max over the rounds (round 0, the counting runs, left out); database work
 * from the run that measured it.
 *
 * @example
 * ```ts
 * const cells = summarizeRuns(results.runs); cells.get("floor-node/read")?.median;
 * ```
 */
export function summarizeRuns(runs: RunRecord[]): Map<string, Cell> {
  const groups = new Map<string, RunRecord[]>();
  const counted = new Map<string, DbWork>();
  for (const run of runs) {
    // Round 0: a run made only to count statements (see bench/run.ts), not a throughput sample.
    if (run.round === 0) {
      if (run.work) counted.set(`${run.server}/${run.scenario}`, run.work);
      continue;
    }
    const key = `${run.server}/${run.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const cells = new Map<string, Cell>();
  for (const [key, list] of groups) {
    const first = list[0] as RunRecord;
    const rps = list.map((r) => r.rps);
    const rss = list.map((r) => r.rssMiB).filter((v): v is number => v !== null);
    const cpu = list.map((r) => r.serverCpuUs).filter((v): v is number => v !== null && v !== undefined);
    const db = list.map((r) => r.dbCpuUs).filter((v): v is number => v !== null && v !== undefined);
    const busy = list.map((r) => r.machineBusy).filter((v): v is number => v !== null && v !== undefined);
    const wal = list.map((r) => r.walBytes).filter((v): v is number => v !== null && v !== undefined);
    cells.set(key, {
      server: first.server,
      scenario: first.scenario,
      rounds: list.length,
      median: median(rps),
      min: Math.min(...rps),
      max: Math.max(...rps),
      p50Us: median(list.map((r) => r.p50Us)),
      p99Us: median(list.map((r) => r.p99Us)),
      rssMiB: rss.length ? Math.max(...rss) : null,
      serverCpuUs: cpu.length ? median(cpu) : null,
      dbCpuUs: db.length ? median(db) : null,
      machineBusy: busy.length ? median(busy) : null,
      walBytes: wal.length ? median(wal) : null,
      errors: list.reduce((sum, r) => sum + r.errors, 0),
      work: counted.get(key) ?? list.find((r) => r.work)?.work ?? null,
    });
  }
  return cells;
}

/** The ratio of two servers' requests/s in one scenario. */
export interface Ratio {
  /** Median over the rounds of the per-round ratio. */
  median: number;
  min: number;
  max: number;
  /** Rounds in which both servers ran. */
  rounds: number;
  /** The ratio of the two medians, for comparison. */
  ofMedians: number;
}

/** Computes {@link Ratio}s from the runs of one benchmark run. */
export type RatioOf = (a: string, b: string, scenario: Scenario) => Ratio | null;

/**
 * Paired ratios: in each round, server a's requests/s over server b's (runs seconds apart,
 * see `roundOrder`), then the median over the rounds. A ratio of medians would compare
 * runs minutes apart, and with them the CPU the rest of the machine left free.
 *
 * @example
 * ```ts
 * pairedRatios(results.runs)("pgsession-node", "floor-node", "read")?.median; // 0.97
 * ```
 */
export function pairedRatios(runs: RunRecord[]): RatioOf {
  const rps = new Map<string, Map<number, number>>();
  for (const run of runs) {
    if (run.round === 0) continue;
    const key = `${run.server}/${run.scenario}`;
    const byRound = rps.get(key) ?? new Map<number, number>();
    byRound.set(run.round, run.rps);
    rps.set(key, byRound);
  }
  return (a, b, scenario) => {
    const x = rps.get(`${a}/${scenario}`);
    const y = rps.get(`${b}/${scenario}`);
    if (!x || !y) return null;
    const ratios: number[] = [];
    for (const [round, value] of x) {
      const other = y.get(round);
      if (other !== undefined && other > 0) ratios.push(value / other);
    }
    if (ratios.length === 0) return null;
    return {
      median: median(ratios),
      min: Math.min(...ratios),
      max: Math.max(...ratios),
      rounds: ratios.length,
      ofMedians: median([...x.values()]) / median([...y.values()]),
    };
  };
}

/** A target of issue 7 and how this run fared. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

/** The inputs of the checks that are not per-server runs. */
export interface ExtraChecks {
  hotRatio: number | null;
  pruneP99Ratio: number | null;
  /** The read cache's revocation windows' p99, ms, by how they were measured (absent: not measured). */
  revocationP99Ms?: Array<{ label: string; p99Ms: number }>;
  /** The big-table run's ratios, big table over small (absent or null: not run). */
  bigTable?: { read: Ratio | null; write: Ratio | null } | null;
}

/**
 * Checks the targets of issue 7 on this run's numbers.
 *
 * @example
 * ```ts
 * const ratio = pairedRatios(results.runs);
 * for (const check of checkTargets(cells, ratio, { hotRatio: 0.98, pruneP99Ratio: 1.3 })) console.log(check.target, check.met);
 * ```
 */
export function checkTargets(cells: Map<string, Cell>, ratio: RatioOf, extra: ExtraChecks): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const atLeast = (target: string, value: Ratio | null, bound: number, strict = false) =>
    checks.push({
      target,
      measured:
        value === null
          ? "not measured"
          : `${value.median.toFixed(2)}x (rounds ${value.min.toFixed(2)}–${value.max.toFixed(2)}; ratio of medians ${value.ofMedians.toFixed(2)}x)`,
      met: value === null ? null : strict ? value.median > bound : value.median >= bound,
    });
  const peerOf = { node: "fastify-session", express: "express-session", fastify: "fastify-session" } as const;
  for (const family of ["node", "express", "fastify"] as const) {
    const pgs = `pgsession-${family}`;
    const floor = `floor-${family}`;
    const read = cells.get(`${pgs}/read`)?.work;
    checks.push({
      target: `${pgs} /read: zero row writes per request between touches`,
      measured: read ? `${read.rowWritesPerRequest.toFixed(4)} row writes/req` : "not measured",
      met: read ? read.rowWritesPerRequest < 0.001 : null,
    });
    atLeast(`${pgs} /read >= 0.9x ${floor}`, ratio(pgs, floor, "read"), 0.9);
    const write = cells.get(`${pgs}/write`)?.work;
    checks.push({
      target: `${pgs} /write: two statements per request (the read, one UPDATE)`,
      measured: write
        ? `${write.statementsPerRequest.toFixed(2)} stmt/req, ${write.rowWritesPerRequest.toFixed(2)} row writes/req`
        : "not measured",
      met: write ? Math.abs(write.statementsPerRequest - 2) < 0.05 && Math.abs(write.rowWritesPerRequest - 1) < 0.05 : null,
    });
    atLeast(`${pgs} /write >= 0.9x ${floor} (SELECT + UPDATE)`, ratio(pgs, floor, "write"), 0.9);
    atLeast(`${pgs} /write above ${peerOf[family]}`, ratio(pgs, peerOf[family], "write"), 1, true);
    atLeast(`${pgs} /login >= 0.85x ${floor}`, ratio(pgs, floor, "login"), 0.85);
  }
  // Behind pgbouncer in transaction mode (run only when named): against the floor through the same pgbouncer.
  const pooled = "pgsession-node-pgbouncer";
  if (cells.has(`${pooled}/read`)) {
    atLeast(`${pooled} /read >= 0.9x floor-node-pgbouncer`, ratio(pooled, "floor-node-pgbouncer", "read"), 0.9);
    atLeast(`${pooled} /write >= 0.9x floor-node-pgbouncer`, ratio(pooled, "floor-node-pgbouncer", "write"), 0.9);
  }
  // The adapters of issue 40 whose framework is light enough to show their cost, when they ran.
  for (const family of ["koa", "h3"] as const) {
    const pgs = `pgsession-${family}`;
    if (!cells.has(`${pgs}/read`)) continue;
    atLeast(`${pgs} /read >= 0.9x floor-${family}`, ratio(pgs, `floor-${family}`, "read"), 0.9);
    atLeast(`${pgs} /write >= 0.9x floor-${family} (SELECT + UPDATE)`, ratio(pgs, `floor-${family}`, "write"), 0.9);
  }
  // The read cache (issue 38.3), when its servers ran.
  for (const family of ["node", "fastify"] as const) {
    const cached = `pgsession-${family}-cache`;
    if (!cells.has(`${cached}/read`)) continue;
    atLeast(`${cached} /read >= 2x floor-${family}`, ratio(cached, `floor-${family}`, "read"), 2);
    atLeast(`${cached} /write >= 0.95x pgsession-${family} (no cache)`, ratio(cached, `pgsession-${family}`, "write"), 0.95);
    atLeast(`${cached} /login >= 0.95x pgsession-${family} (no cache)`, ratio(cached, `pgsession-${family}`, "login"), 0.95);
  }
  for (const { label, p99Ms } of extra.revocationP99Ms ?? []) {
    checks.push({ target: `read cache: revocation window p99 <= 50 ms (${label})`, measured: `${p99Ms.toFixed(1)} ms`, met: p99Ms <= 50 });
  }
  if (extra.bigTable) {
    atLeast("big table: pgsession-node /read on millions of sessions >= 0.9x on the small table", extra.bigTable.read, 0.9);
    atLeast("big table: pgsession-node /write on millions of sessions >= 0.9x on the small table", extra.bigTable.write, 0.9);
  }
  checks.push({
    target: "prune: /read p99 during the prune <= 2x without it",
    measured: extra.pruneP99Ratio === null ? "not measured" : `${extra.pruneP99Ratio.toFixed(2)}x`,
    met: extra.pruneP99Ratio === null ? null : extra.pruneP99Ratio <= 2,
  });
  checks.push({
    target: "touches are HOT updates: n_tup_hot_upd / n_tup_upd > 0.9",
    measured: extra.hotRatio === null ? "not measured" : extra.hotRatio.toFixed(3),
    met: extra.hotRatio === null ? null : extra.hotRatio > 0.9,
  });
  return checks;
}
