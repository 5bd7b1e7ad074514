/**
 * The report: REPORT.md and chart.svg, from the results of one run (bench/.results/, or
 * bench/results/ when published).
 * @module
 */
import { writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { renderChart } from "./chart.js";
import { SCENARIOS, sliceCycles, type RunRecord, type Scenario } from "./measure.js";
import type { ProfileSummary } from "./profile.js";
import type { CacheMemoryResult } from "./cache-memory.js";
import type { PruneReport } from "./prune.js";
import { BIG, SMALL, type BigTableReport } from "./big-table.js";
import type { RevocationReport } from "./revocation.js";
import type { ServerSpec } from "./servers.js";
import { checkTargets, pairedRatios, summarizeRuns, type Cell, type RatioOf } from "./summary.js";

/** Everything one benchmark run produced (results.json). */
export interface BenchResults {
  meta: {
    date: string;
    node: string;
    wrk: string;
    postgres: string;
    pgSettings: Record<string, string>;
    cpus: string;
    loadBefore: number[];
    loadAfter: number[];
    durationS: number;
  };
  config: Record<string, unknown> & {
    mode: string;
    rounds: number;
    sessions: number;
    poolSize: number;
    shape: {
      connections: number;
      threads: number;
      durationS: number;
      warmupS: number;
      /** Absent in results written before pairs were interleaved. */ sliceS?: number;
    };
  };
  servers: ServerSpec[];
  runs: RunRecord[];
  hot: { record: RunRecord; hotRatio: number } | null;
  profiles: Record<string, ProfileSummary>;
  /** The route the CPU profiles sampled (absent in reports from before `--profile-route`: /read). */
  profileRoute?: string;
  prune: PruneReport | null;
  /** The read cache's extras: bytes per entry and revocation windows (absent when no cache server ran). */
  cache?: { memory: CacheMemoryResult[]; revocation: RevocationReport[] } | null;
  /** The big-table run (absent when it did not run). */
  bigTable?: BigTableReport | null;
}

/** The big-table run's section: the fill, the sizes per session, the paired ratios. */
function bigTableSection(big: BigTableReport | null | undefined): string[] {
  if (!big) return [];
  const cells = summarizeRuns(big.runs);
  const row = (name: string, scenario: Scenario) => {
    const cell = cells.get(`${name}/${scenario}`);
    return cell
      ? `${int(cell.median)} | ${ms(cell.p50Us)} | ${ms(cell.p99Us)} | ${cell.dbCpuUs?.toFixed(0) ?? "–"} | ${cell.errors}`
      : "– | – | – | – | –";
  };
  const ratioText = (r: BigTableReport["ratios"]["read"]) =>
    r ? `**${r.median.toFixed(2)}x** (rounds ${r.min.toFixed(2)}–${r.max.toFixed(2)})` : "–";
  return [
    "## Big table",
    "",
    `pgsession-node on a table of ${int(big.rows)} live sessions against the same server on a table of ${int(big.smallRows)}, interleaved as the adapters and their floors are, ` +
      `${big.runs.length / 4} rounds. The ${int(big.sample)} sessions read and written in the big table are picked at random among all its rows, so their index and heap pages are spread over the whole table. ` +
      `Filled with INSERT ... SELECT generate_series in ${int(big.fillSeconds)} s, then VACUUM (ANALYZE) in ${int(big.vacuumSeconds)} s.`,
    "",
    "| | bytes per session |",
    "|---|--:|",
    `| table (heap, TOAST, maps: \`pg_table_size\`) | ${int(big.tableBytesPerSession)} |`,
    `| all indexes (\`pg_indexes_size\`) | ${int(big.indexBytesPerSession)} |`,
    ...big.indexes.map((i) => `| index ${i.name} | ${int(i.bytesPerSession)} |`),
    "",
    "| server | scenario | req/s (median) | p50 ms | p99 ms | PostgreSQL CPU µs/req | errors |",
    "|---|---|--:|--:|--:|--:|--:|",
    ...(["read", "write"] as const).flatMap((scenario) =>
      [SMALL, BIG].map((name) => `| ${name} | /${scenario} | ${row(name, scenario)} |`),
    ),
    "",
    `Big table over small table, paired per round: /read ${ratioText(big.ratios.read)}, /write ${ratioText(big.ratios.write)}.`,
    "",
  ];
}

/** What each design decision costs and what was tried: docs/performance.md, which the report links. */
const PERFORMANCE_DOC = fileURLToPath(new URL("../../docs/performance.md", import.meta.url));
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (us: number) => (us / 1000).toFixed(1);
const x = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}x` : "–");
const rx = (ratio: ReturnType<RatioOf>) => (ratio ? `${ratio.median.toFixed(2)}x` : "–");
const mark = (met: boolean | null) => (met === null ? "–" : met ? "✓" : "✗");

function scenarioTable(scenario: Scenario, servers: ServerSpec[], cells: Map<string, Cell>, ratio: RatioOf): string[] {
  const get = (name: string) => cells.get(`${name}/${scenario}`);
  const lines = [
    `### /${scenario}`,
    "",
    "| server | req/s (median) | min–max | p50 ms | p99 ms | × its floor | × fastify-session | × express-session | server CPU µs/req | CPU × its floor | PostgreSQL CPU µs/req | WAL B/req | stmt/req | row writes/req | RSS MiB | machine busy | errors |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const spec of servers) {
    const cell = get(spec.name);
    if (!cell || spec.kind === "ceiling") continue;
    const floor = get(`floor-${spec.family}`);
    const w = cell.work;
    lines.push(
      `| ${spec.name} | ${int(cell.median)} | ${int(cell.min)}–${int(cell.max)} | ${ms(cell.p50Us)} | ${ms(cell.p99Us)} | ${spec.kind === "floor" ? "–" : rx(ratio(spec.name, `floor-${spec.family}`, scenario))} | ${rx(ratio(spec.name, "fastify-session", scenario))} | ${rx(ratio(spec.name, "express-session", scenario))} | ${cell.serverCpuUs?.toFixed(0) ?? "–"} | ${spec.kind === "floor" ? "–" : x(cell.serverCpuUs ?? undefined, floor?.serverCpuUs ?? undefined)} | ${cell.dbCpuUs?.toFixed(0) ?? "–"} | ${cell.walBytes?.toFixed(0) ?? "–"} | ${w ? w.statementsPerRequest.toFixed(2) : "–"} | ${w ? w.rowWritesPerRequest.toFixed(3) : "–"} | ${cell.rssMiB?.toFixed(0) ?? "–"} | ${cell.machineBusy === null ? "–" : `${(cell.machineBusy * 100).toFixed(0)} %`} | ${cell.errors} |`,
    );
  }
  return [...lines, ""];
}

function attributionSection(cells: Map<string, Cell>): string[] {
  const get = (name: string, scenario: Scenario) => cells.get(`${name}/${scenario}`);
  if (!get("pgsession-core", "read") || !get("floor-node", "read") || !get("pgsession-node", "read")) return [];
  const lines = [
    "## Where pgsession's extra cost goes (CPU per request, medians)",
    "",
    "pgsession-core runs pgsession's framework-free core (`resolve`, `commit`) on node:http without the adapter: " +
      "core − floor is the cost of the core and the store in Node; node − core is the node:http adapter's. PostgreSQL CPU is that of the server's backends.",
    "",
    "| scenario | floor-node (Node) | pgsession-core (Node) | pgsession-node (Node) | core + store | adapter | floor-node (PostgreSQL) | pgsession-node (PostgreSQL) | SQL difference |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  const us = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toFixed(0));
  const diff = (a: number | null | undefined, b: number | null | undefined) =>
    a == null || b == null ? "–" : `${a - b >= 0 ? "+" : ""}${(a - b).toFixed(0)}`;
  for (const scenario of SCENARIOS) {
    const floor = get("floor-node", scenario);
    const core = get("pgsession-core", scenario);
    const node = get("pgsession-node", scenario);
    lines.push(
      `| /${scenario} | ${us(floor?.serverCpuUs)} | ${us(core?.serverCpuUs)} | ${us(node?.serverCpuUs)} | ${diff(core?.serverCpuUs, floor?.serverCpuUs)} | ${diff(node?.serverCpuUs, core?.serverCpuUs)} | ${us(floor?.dbCpuUs)} | ${us(node?.dbCpuUs)} | ${diff(node?.dbCpuUs, floor?.dbCpuUs)} |`,
    );
  }
  return [...lines, ""];
}

function cacheSection(results: BenchResults, cells: Map<string, Cell>, ratio: RatioOf): string[] {
  const families = (["node", "fastify"] as const).filter((family) => cells.has(`pgsession-${family}-cache/read`));
  const extras = results.cache;
  if (families.length === 0 && !extras) return [];
  const lines = [
    "## Read cache (issue 38.3)",
    "",
    "The `-cache` servers run the same adapter with `cache: { maxEntries: 200000 }`, interleaved with the adapter without it and their floor. " +
      "A read answered from memory sends no statement; a write sends its UPDATE (the read before it is answered from memory), which the table's triggers turn into a NOTIFY.",
    "",
  ];
  if (families.length > 0) {
    lines.push("| server | /read × floor | /read × no cache | /write × no cache | /login × no cache |", "|---|--:|--:|--:|--:|");
    for (const family of families) {
      const cached = `pgsession-${family}-cache`;
      const plain = `pgsession-${family}`;
      lines.push(
        `| ${cached} | ${rx(ratio(cached, `floor-${family}`, "read"))} | ${rx(ratio(cached, plain, "read"))} | ${rx(ratio(cached, plain, "write"))} | ${rx(ratio(cached, plain, "login"))} |`,
      );
    }
    lines.push("");
  }
  if (cells.has("pgsession-node-triggers/write")) {
    lines.push(
      `What the triggers cost a table whose applications do not listen (pgsession-node-triggers, no cache, against pgsession-node, paired per round but not interleaved): ` +
        `/write ${rx(ratio("pgsession-node-triggers", "pgsession-node", "write"))}, /login ${rx(ratio("pgsession-node-triggers", "pgsession-node", "login"))}, /read ${rx(ratio("pgsession-node-triggers", "pgsession-node", "read"))}.`,
      "",
    );
  }
  if (extras && extras.memory.length > 0) {
    lines.push(
      "Memory (a process of its own, `--expose-gc`; heap with the cache full over the heap without it):",
      "",
      "| sessions hold | data JSON bytes | entries | bytes per cached session |",
      "|---|--:|--:|--:|",
    );
    for (const m of extras.memory) lines.push(`| ${m.data} | ${m.dataBytes} | ${int(m.entries)} | ${int(m.bytesPerEntry)} |`);
    lines.push("");
  }
  if (extras && extras.revocation.length > 0) {
    lines.push(
      "Revocation window: a session revoked by one instance (its own process, pool and cache), read every 1 ms by the others until they refuse it; from the revoking instance's acknowledged commit (negative values, when another instance refused first, count as 0), and from the revoke's call:",
      "",
      "| instances | busy readers each | trials | windows | p50 ms | p90 ms | p99 ms | max ms | from the call: p50, p99 ms | revoke round trip ms | refused before the ack |",
      "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    );
    for (const r of extras.revocation) {
      lines.push(
        `| ${r.processes} | ${r.busyLoops} | ${r.trials} | ${r.samples} | ${r.p50Ms.toFixed(1)} | ${r.p90Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.maxMs.toFixed(1)} | ${r.fromCallP50Ms.toFixed(1)}, ${r.fromCallP99Ms.toFixed(1)} | ${r.revokeMs.toFixed(1)} | ${r.negative} |`,
      );
    }
    lines.push("");
  }
  return lines;
}

function profileSection(profiles: Record<string, ProfileSummary>, route: string): string[] {
  const names = Object.keys(profiles);
  if (names.length === 0) return [];
  const lines = [
    `## CPU profile of ${route} (server process, measured window only)`,
    "",
    "Sampled time of the main thread per request (V8 samples wall time, so a thread descheduled inside a syscall, typically `writev` waking a PostgreSQL backend on the other core, counts there; the CPU columns above come from /proc and are the CPU measure). Locations are lines of the compiled JavaScript.",
    "",
    "| server | sampled µs per request | src (library) | dependencies | node internals | gc | bench code |",
    "|---|--:|--:|--:|--:|--:|--:|",
  ];
  for (const name of names) {
    const p = profiles[name] as ProfileSummary;
    const o = (key: string) => (p.byOrigin[key] ?? 0).toFixed(1);
    lines.push(
      `| ${name} | ${p.busyUsPerRequest.toFixed(1)} | ${o("src")} | ${o("dependencies")} | ${o("node")} | ${o("gc")} | ${o("bench")} |`,
    );
  }
  const pgs = profiles["pgsession-node"];
  if (pgs) {
    lines.push(
      "",
      `Library functions (src/) by self time, pgsession-node ${route}:`,
      "",
      "| function | where | µs/request | share of CPU |",
      "|---|---|--:|--:|",
    );
    for (const fn of pgs.library.slice(0, 12))
      lines.push(`| ${fn.name} | ${fn.location} | ${fn.usPerRequest.toFixed(2)} | ${(fn.share * 100).toFixed(1)} % |`);
  }
  for (const name of names) {
    lines.push("", `Top functions overall, ${name} ${route}:`, "", "| function | where | µs/request | share |", "|---|---|--:|--:|");
    for (const fn of (profiles[name] as ProfileSummary).top.slice(0, 12))
      lines.push(`| ${fn.name} | ${fn.location || "–"} | ${fn.usPerRequest.toFixed(2)} | ${(fn.share * 100).toFixed(1)} % |`);
  }
  return [...lines, ""];
}

/**
 * Writes REPORT.md and chart.svg into `dir`.
 *
 * @example
 * ```ts
 * writeReport(JSON.parse(readFileSync("bench/results/results.json", "utf8")), "bench/results");
 * ```
 */
export function writeReport(results: BenchResults, dir: string): void {
  const cells = summarizeRuns(results.runs);
  const servers = results.servers;
  const { meta, config } = results;
  const shape = config.shape;
  const ceiling = cells.get("ceiling/read");
  const ratio = pairedRatios(results.runs);
  const cycles = shape.sliceS ? sliceCycles({ durationS: shape.durationS, sliceS: shape.sliceS }) : 0;
  const checks = checkTargets(cells, ratio, {
    hotRatio: results.hot?.hotRatio ?? null,
    pruneP99Ratio: results.prune?.p99Ratio ?? null,
    bigTable: results.bigTable?.ratios ?? null,
    revocationP99Ms: (results.cache?.revocation ?? []).map((r) => ({
      label: `${r.processes} processes, ${r.busyLoops === 0 ? "idle" : `${r.busyLoops} busy readers each`}`,
      p99Ms: r.p99Ms,
    })),
  });
  const lines: string[] = [
    "# pgsession benchmark report",
    "",
    `Written by \`npm run bench${config.mode === "quick" ? " -- --quick" : ""}\` on ${meta.date} (${(meta.durationS / 60).toFixed(1)} min). ` +
      (shape.sliceS
        ? `${config.rounds} rounds; in each, the servers of one framework run back to back. pgsession's adapter (and its variant with the read cache, when it runs) and its floor are measured interleaved: all warm up for ${shape.warmupS} s, ` +
          `then wrk loads them in turn in slices of ${shape.sliceS} s, in the order A B B A (A B C C B A), ${cycles} times (the order reversed every round): ${2 * cycles * (shape.sliceS ?? 0)} s each; ` +
          `the other servers then run one by one, ${shape.durationS} s each after ${shape.warmupS} s of warm-up. The interleaved servers' statements and row writes are counted in round 1 by a run of each server alone. ` +
          `wrk ${shape.connections} connections, ${shape.threads} threads; writing measurements start after a CHECKPOINT; `
        : `${config.rounds} rounds; in each, the servers of one framework run back to back (pgsession's adapter next to its floor, their order swapped every round), each scenario on each server in turn; ` +
          `each run ${shape.durationS} s of wrk (${shape.connections} connections, ${shape.threads} threads) after ${shape.warmupS} s of warm-up, writing runs after a CHECKPOINT, `) +
      `over ${config.sessions} pre-created sessions; PostgreSQL pool of ${config.poolSize} in every server.`,
    "",
    `Machine: ${meta.cpus}; load average before ${meta.loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${meta.loadAfter.map((l) => l.toFixed(2)).join(" ")}. ` +
      `Node ${meta.node}; ${meta.wrk}; ${meta.postgres.split(" on ")[0]} (${Object.entries(meta.pgSettings)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}).`,
    "",
    "![requests/s per scenario and server](chart.svg)",
    "",
    "## Targets (issue 7; the read cache's: issue 38.3)",
    "",
    "| target | measured | met |",
    "|---|---|:-:|",
    ...checks.map((c) => `| ${c.target} | ${c.measured} | ${mark(c.met)} |`),
    "",
    "## Headline",
    "",
    "| | /read | /write | /login |",
    "|---|--:|--:|--:|",
  ];
  for (const family of ["node", "express", "fastify", "node-pgbouncer", "koa", "h3"] as const) {
    // The servers behind pgbouncer run only when named, and Koa's and h3's only when selected: no row when they did not.
    if ((family === "node-pgbouncer" || family === "koa" || family === "h3") && !cells.has(`pgsession-${family}/read`)) continue;
    const row = SCENARIOS.map((s) => {
      const c = cells.get(`pgsession-${family}/${s}`);
      const pgs = `pgsession-${family}`;
      return c
        ? `${int(c.median)} (${rx(ratio(pgs, `floor-${family}`, s))} floor, ${rx(ratio(pgs, "fastify-session", s))} fastify-session, ${rx(ratio(pgs, "express-session", s))} express-session)`
        : "–";
    });
    lines.push(`| pgsession-${family} | ${row.join(" | ")} |`);
  }
  lines.push(
    "",
    ceiling
      ? `HTTP ceiling (node:http answering a constant): ${int(ceiling.median)} req/s (${int(ceiling.min)}–${int(ceiling.max)}), p99 ${ms(ceiling.p99Us)} ms, RSS ${ceiling.rssMiB?.toFixed(0)} MiB.`
      : "",
    "",
    "## Servers",
    "",
    ...servers.map((s) => `- **${s.name}**: ${s.label}`),
    "",
    "## Results per scenario",
    "",
    "Medians over the rounds (min–max beside them). Ratios are paired: in each round the two servers' requests/s, measured seconds apart (a pgsession adapter and its floor: over the same interleaved seconds), then the median over the rounds (the targets table also gives the ratio of the medians). pgsession's adapters are compared with the floor of the same framework; the peers with theirs.",
    "",
  );
  for (const scenario of SCENARIOS) lines.push(...scenarioTable(scenario, servers, cells, ratio));
  if (results.hot) {
    const w = results.hot.record.work;
    lines.push(
      "## HOT updates (touch-heavy run)",
      "",
      `pgsession-node with \`touchAfter: 0\` (every read touches), /read for ${results.hot.record.requests ? int(results.hot.record.requests) : "?"} requests: ${int(results.hot.record.rps)} req/s, ` +
        `${w?.statementsPerRequest.toFixed(2)} statements and ${w?.rowWritesPerRequest.toFixed(3)} row writes per request; ` +
        `n_tup_upd ${w?.rowsUpdated}, n_tup_hot_upd ${w?.rowsHotUpdated}: **HOT ratio ${results.hot.hotRatio.toFixed(3)}**.`,
      "",
    );
    const write = cells.get("pgsession-node/write")?.work;
    if (write && write.rowsUpdated > 0)
      lines.push(
        `Data writes (pgsession-node /write, first round): HOT ratio ${(write.rowsHotUpdated / write.rowsUpdated).toFixed(3)}.`,
        "",
      );
  }
  if (results.prune) {
    const p = results.prune;
    lines.push(
      "## Prune",
      "",
      `${int(p.expiredRows)} expired rows among ${int(p.liveRows)} live ones (seeded in ${p.seedSeconds.toFixed(1)} s), removed by \`sessions.prune({ batchSize: ${p.batchSize}${p.pauseMs ? `, pause: ${p.pauseMs}` : ""} })\` ` +
        `in another process while wrk ran /read on pgsession-node.`,
      "",
      "| | value |",
      "|---|--:|",
      `| rows deleted | ${int(p.deleted)} |`,
      `| duration | ${p.durationS.toFixed(1)} s |`,
      `| rows/s | ${int(p.rowsPerS)} |`,
      `| rows left (live + the benchmark's own sessions) | ${int(p.rowsLeft)} |`,
      `| /read without prune${p.baselineAfter ? ", before it" : ""}: req/s, p50, p99 | ${int(p.baseline.rps)}, ${ms(p.baseline.p50Us)} ms, ${ms(p.baseline.p99Us)} ms |`,
      ...(p.baselineAfter
        ? [
            `| /read without prune, after it: req/s, p50, p99 | ${int(p.baselineAfter.rps)}, ${ms(p.baselineAfter.p50Us)} ms, ${ms(p.baselineAfter.p99Us)} ms |`,
          ]
        : []),
      `| /read during prune: req/s, p50, p99 | ${int(p.during.rps)}, ${ms(p.during.p50Us)} ms, ${ms(p.during.p99Us)} ms |`,
      `| p99 ratio (target <= 2)${p.baselineAfter ? ", against the lower baseline p99" : ""} | ${p.p99Ratio.toFixed(2)}x |`,
      "",
    );
  }
  lines.push(
    ...cacheSection(results, cells, ratio),
    ...bigTableSection(results.bigTable),
    ...attributionSection(cells),
    ...profileSection(results.profiles, results.profileRoute ?? "/read"),
    "## How to read the numbers",
    "",
    "- **stmt/req**: the database's committed transactions (`pg_stat_database.xact_commit`) during the run, divided by the requests wrk completed. Every statement outside BEGIN..COMMIT is one transaction, so this counts statements (a transaction block would count once). It covers the whole database: anything else running on it adds noise. Before and after each measured run every backend of the server's pool runs one `SELECT 1` so that PostgreSQL 15 flushes its pending statistics; those statements are subtracted.",
    "- **row writes/req**: `n_tup_ins + n_tup_upd + n_tup_del` of the server's own table (`pg_stat_user_tables`). Measured in the first round only (for pgsession's adapters and the floors, by a run of the server alone: the database's transaction counter cannot be split between two servers interleaved seconds apart).",
    "- **server CPU µs/req**: user + system CPU time of the server process during the run (/proc/<pid>/stat) per request. Less sensitive than requests/s to other load on the machine; **PostgreSQL CPU µs/req** is the same for the backends connected to the benchmark's database (the server's pool); **machine busy** is the share of all cores busy during the run (wrk, PostgreSQL, the server and anything else).",
    "- **WAL B/req**: bytes of WAL the cluster wrote during the run (`pg_current_wal_insert_lsn()` before and after) per request, medians. Writing runs start after a `CHECKPOINT`, so the first change to each page in a run also writes its full-page image (8 kB): a write that dirties random pages of an index costs more WAL than one that appends.",
    "- **RSS**: VmRSS of the server process after the run (the largest over the rounds).",
    "- **p50/p99**: wrk's latency percentiles (exact, from the Lua `done` hook), medians over the rounds (for an interleaved server, each round's value is the median of its slices).",
    "- The load generator, the servers and PostgreSQL share the machine; on 2 cores the single Node process of each server is the bottleneck, so requests/s mostly measure CPU per request in Node.",
    "",
  );
  const doc = relative(dir, PERFORMANCE_DOC).split(sep).join("/");
  lines.push(
    "## Design decisions and their measurements",
    "",
    `What each performance decision in the code saves, where it lives and which test guards it, what was tried and rejected: [docs/performance.md](${doc}).`,
    "",
  );
  writeFileSync(join(dir, "REPORT.md"), lines.join("\n"));
  const groups = Object.fromEntries(
    SCENARIOS.map((s) => [
      s,
      servers
        .filter((sv) => sv.kind !== "ceiling" && sv.kind !== "diagnostic")
        .map((sv) => cells.get(`${sv.name}/${s}`))
        .filter((c): c is Cell => c !== undefined)
        .map((c) => ({ server: c.server, median: c.median, min: c.min, max: c.max })),
    ]),
  );
  const pairS = 2 * cycles * (shape.sliceS ?? 0);
  const timing = pairS
    ? `${pairS} s per pgsession adapter and floor (interleaved), ${shape.durationS} s per other server`
    : `${shape.durationS} s per server`;
  const footnote =
    `${config.mode} run, ${meta.date.slice(0, 10)}: median of ${config.rounds} rounds, wrk ${shape.connections} connections, ${timing}.` +
    (ceiling ? `\nHTTP ceiling (constant, no database): ${int(ceiling.median)} req/s.` : "");
  writeFileSync(join(dir, "chart.svg"), renderChart("pgsession benchmark: requests/s per scenario and server", groups, footnote));
}
