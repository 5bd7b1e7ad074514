/**
 * `npm run bench:revocation`: the read cache's revocation window on its own (bench/lib/revocation.ts):
 * three processes, each with its own cache over one table; one revokes, the others report
 * when they refuse the session. Prints p50/p90/p99/max. `npm run bench` runs it too.
 *
 *   npm run bench:revocation -- [--trials N] [--processes N] [--poll MS] [--heartbeat MS] [--busy LOOPS]
 *
 * `--busy N` keeps every instance busy with N concurrent readers answered from its cache,
 * as a server under load is: the window then includes the event loop's delay.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { ensureDatabase } from "./lib/pgstats.js";
import { runRevocationBench } from "./lib/revocation.js";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "200" },
    processes: { type: "string", default: "3" },
    poll: { type: "string", default: "1" },
    heartbeat: { type: "string", default: "1000" },
    busy: { type: "string", default: "0" },
  },
});
const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/pgsession_bench";
const schema = "pgsession_revocation";
await ensureDatabase(databaseUrl);
const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
try {
  const report = await runRevocationBench(
    {
      databaseUrl,
      schema,
      processes: Number(values.processes),
      trials: Number(values.trials),
      pollMs: Number(values.poll),
      heartbeatMs: Number(values.heartbeat),
      busyLoops: Number(values.busy),
    },
    console.log,
  );
  console.log(JSON.stringify(report, null, 2));
} finally {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
