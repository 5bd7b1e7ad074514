/**
 * The big-table run: pgsession-node on a sessions table holding millions of live sessions,
 * against the same server on a table of the run's usual size, interleaved. The big table is
 * filled by INSERT ... SELECT generate_series in batches, each row a copy of a session the
 * server stored itself with its own token, derived from the row's number so that the load
 * can present any of them: the sessions read are spread over the whole table.
 * @module
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import pg from "pg";
import { createSessionCookies } from "./load.js";
import { measureInterleaved, type LoadShape, type RunRecord } from "./measure.js";
import { SERVERS, startServer, stopServer, type LaunchSettings, type RunningServer } from "./servers.js";
import { pairedRatios, type Ratio } from "./summary.js";

/** What the big-table run measured. */
export interface BigTableReport {
  /** Sessions in the big table (the filled ones, the template and the readers' own). */
  rows: number;
  /** Sessions in the small table. */
  smallRows: number;
  /** Distinct sessions the load reads and writes in each table. */
  sample: number;
  fillSeconds: number;
  vacuumSeconds: number;
  /** pg_table_size (heap, TOAST, free space and visibility maps) per session, bytes. */
  tableBytesPerSession: number;
  /** pg_indexes_size per session, bytes. */
  indexBytesPerSession: number;
  /** Each index's size per session, bytes. */
  indexes: Array<{ name: string; bytesPerSession: number }>;
  /** The interleaved runs, the small table's named {@link SMALL}, the big one's {@link BIG}. */
  runs: RunRecord[];
  /** Requests/s on the big table over the small one, paired per round. */
  ratios: { read: Ratio | null; write: Ratio | null };
}

/** Settings of the big-table run. */
export interface BigTableSettings {
  databaseUrl: string;
  schema: string;
  /** The first of the two ports used. */
  port: number;
  poolSize: number;
  rows: number;
  /** Sessions of the small table, and distinct sessions read in the big one. */
  sample: number;
  rounds: number;
  shape: LoadShape;
  /** Rows per INSERT. */
  batch: number;
  /** The fill stops with an error past this many seconds. */
  fillDeadlineS: number;
  /** A directory for the cookie files. */
  work: string;
  checkpoint: () => Promise<void>;
}

/** The record names of the two servers in {@link BigTableReport.runs}. */
export const SMALL = "pgsession-node (small table)";
export const BIG = "pgsession-node (big table)";
const SMALL_TABLE = "big_bench_small";
const BIG_TABLE = "big_bench";
const TOKEN_PREFIX = "pgsession-bench-big:";

/** The token of filled row `n`: the same derivation as the SQL in {@link fill}. */
export function benchToken(n: number): string {
  return createHash("sha256").update(`${TOKEN_PREFIX}${n}`).digest("base64url");
}

/** SQL computing the token of row `g`, as {@link benchToken} does. */
const TOKEN_SQL = `translate(rtrim(encode(sha256(convert_to('${TOKEN_PREFIX}' || g, 'UTF8')), 'base64'), '='), '+/', '-_')`;

/**
 * Fills `table` with `rows` copies of its one stored session (the template), each with an
 * id and a token of its own. Columns are read from the catalog, so the fill follows the
 * schema the migrations made.
 */
async function fill(
  admin: pg.Pool,
  settings: BigTableSettings,
  table: string,
  log: (line: string) => void,
): Promise<{ fillSeconds: number; vacuumSeconds: number }> {
  const qualified = `"${settings.schema}"."${table}"`;
  const columns = (
    await admin.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
      [settings.schema, table],
    )
  ).rows.map((r) => r.column_name);
  const generated: Record<string, string> = {
    id: `'bench-' || lpad(g::text, 10, '0')`,
    token_hash: `sha256(convert_to(${TOKEN_SQL}, 'UTF8'))`,
  };
  const list = columns.map((c) => `"${c}"`).join(", ");
  const values = columns.map((c) => generated[c] ?? `t."${c}"`).join(", ");
  const template = (await admin.query<{ id: string }>(`SELECT id FROM ${qualified}`)).rows;
  if (template.length !== 1) throw new Error(`the big table should hold one template session, not ${template.length}`);
  const started = performance.now();
  for (let from = 1; from <= settings.rows; from += settings.batch) {
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed > settings.fillDeadlineS)
      throw new Error(`filling the big table took over ${settings.fillDeadlineS} s (${from - 1} rows); stopped`);
    const to = Math.min(settings.rows, from + settings.batch - 1);
    await admin.query(
      `INSERT INTO ${qualified} (${list}) SELECT ${values} FROM ${qualified} AS t, generate_series($1::bigint, $2::bigint) AS g WHERE t.id = $3`,
      [from, to, template[0]?.id],
    );
    log(`  big table: ${to.toLocaleString("en-US")} rows (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  const fillSeconds = (performance.now() - started) / 1000;
  const vacuumStart = performance.now();
  // What autovacuum would do after such a load: statistics, visibility map, hint bits.
  await admin.query(`VACUUM (ANALYZE) ${qualified}`);
  return { fillSeconds, vacuumSeconds: (performance.now() - vacuumStart) / 1000 };
}

/** Distinct row numbers in 1..`rows`, `count` of them, at random. */
function sampleRows(rows: number, count: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, rows)) picked.add(1 + Math.floor(Math.random() * rows));
  return [...picked];
}

async function sizes(admin: pg.Pool, schema: string, table: string, rows: number) {
  const qualified = `"${schema}"."${table}"`;
  const total = (
    await admin.query<{ t: string; i: string }>(`SELECT pg_table_size($1::regclass) AS t, pg_indexes_size($1::regclass) AS i`, [qualified])
  ).rows[0];
  const indexes = (
    await admin.query<{ name: string; bytes: string }>(
      `SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`,
      [qualified],
    )
  ).rows.map((r) => ({ name: r.name.replace(`${schema}.`, ""), bytesPerSession: Number(r.bytes) / rows }));
  return { table: Number(total?.t) / rows, index: Number(total?.i) / rows, indexes };
}

/**
 * Runs the big-table benchmark end to end: both servers, the fill, the interleaved /read and
 * /write runs, the sizes; drops both tables after.
 *
 * @example
 * ```ts
 * const report = await runBigTableBench({ rows: 5_000_000, sample: 1000, ... }, console.log);
 * ```
 */
export async function runBigTableBench(settings: BigTableSettings, log: (line: string) => void): Promise<BigTableReport> {
  const spec = SERVERS.find((s) => s.name === "pgsession-node");
  if (!spec) throw new Error("pgsession-node is not a known server");
  const admin = new pg.Pool({ connectionString: settings.databaseUrl, max: 2 });
  const launchSettings: LaunchSettings = { ...settings, port: settings.port };
  const servers: RunningServer[] = [];
  const smallFile = `${settings.work}/big-small.cookies`;
  const bigFile = `${settings.work}/big-big.cookies`;
  try {
    servers.push(await startServer(spec, { ...launchSettings, table: SMALL_TABLE, port: settings.port }));
    servers.push(await startServer(spec, { ...launchSettings, table: BIG_TABLE, port: settings.port + 1 }));
    const [small, big] = servers as [RunningServer, RunningServer];
    await createSessionCookies(small.port, "session", settings.sample, smallFile);
    // The template: one session stored by the server itself, as /login stores it.
    await createSessionCookies(big.port, "session", 1, `${settings.work}/big-template.cookies`);
    log(`big table: filling ${settings.rows.toLocaleString("en-US")} sessions`);
    const { fillSeconds, vacuumSeconds } = await fill(admin, settings, BIG_TABLE, log);
    log(`  filled in ${fillSeconds.toFixed(0)} s, VACUUM (ANALYZE) in ${vacuumSeconds.toFixed(0)} s`);
    writeFileSync(
      bigFile,
      `${sampleRows(settings.rows, settings.sample)
        .map((n) => `session=${benchToken(n)}`)
        .join("\n")}\n`,
    );
    const probe = await fetch(`http://127.0.0.1:${big.port}/read`, { headers: { cookie: `session=${benchToken(1)}` } });
    const body = await probe.text();
    if (probe.status !== 200 || body !== "0") throw new Error(`a filled session did not read back: ${probe.status} ${body}`);
    const rows = Number((await admin.query(`SELECT count(*) AS n FROM "${settings.schema}"."${BIG_TABLE}"`)).rows[0]?.n);
    const size = await sizes(admin, settings.schema, BIG_TABLE, rows);
    log(`  ${rows.toLocaleString("en-US")} rows: table ${size.table.toFixed(0)} B/session, indexes ${size.index.toFixed(0)} B/session`);
    const runs: RunRecord[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const pair = round % 2 === 1 ? [small, big] : [big, small];
      for (const scenario of ["read", "write"] as const) {
        if (scenario === "write") await settings.checkpoint();
        const files = pair.map((s) => (s === small ? smallFile : bigFile));
        const measured = await measureInterleaved(pair, scenario, files, settings.shape, { round, db: admin });
        for (const [i, record] of measured.entries()) {
          record.server = pair[i] === small ? SMALL : BIG;
          runs.push(record);
          log(`  round ${round} ${record.server} /${scenario}: ${record.rps.toFixed(0)} req/s, p99 ${(record.p99Us / 1000).toFixed(1)} ms`);
        }
      }
    }
    const ratio = pairedRatios(runs);
    return {
      rows,
      smallRows: settings.sample,
      sample: settings.sample,
      fillSeconds,
      vacuumSeconds,
      tableBytesPerSession: size.table,
      indexBytesPerSession: size.index,
      indexes: size.indexes,
      runs,
      ratios: { read: ratio(BIG, SMALL, "read"), write: ratio(BIG, SMALL, "write") },
    };
  } finally {
    await Promise.all(servers.map((s) => stopServer(s)));
    for (const table of [SMALL_TABLE, BIG_TABLE])
      await admin
        .query(
          `DROP TABLE IF EXISTS "${settings.schema}"."${table}", "${settings.schema}"."${table}_migrations", "${settings.schema}"."${table}_prune_lease" CASCADE`,
        )
        .catch(() => {});
    await admin.end();
  }
}
