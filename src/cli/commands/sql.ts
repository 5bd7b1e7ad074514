/**
 * `pgsession sql`: prints the SQL that installs or updates the sessions table, for
 * databases installed with psql alone. It connects to no database.
 * @module
 */
import { installScript, shippedMigrations } from "../../index.js";
import { optionalInteger } from "../args.js";
import { EXIT, usage, type Command } from "../command.js";
import { formatTable, toJson } from "../format.js";

/** The `sql` command. */
export const sqlCommand: Command = {
  name: "sql",
  summary: "print the SQL that installs or updates the sessions table, for psql (connects to nothing)",
  help: `Usage: pgsession sql [--unlogged] [--cache] [--migration N | --functions | --list] [options]

Prints the complete install script of the sessions table for psql or any SQL client, and
connects to no database. In one transaction, under the advisory lock pgsession migrate
takes, it creates the schema and the migration history when missing, applies each
migration that history does not record (and records it), then defines the SQL functions
anew. Running it again changes nothing, and pgsession migrate or sessions.migrate() find
the table up to date. To upgrade, print the script of the new version and run it.

  pgsession sql --schema auth > pgsession.sql
  psql -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f pgsession.sql

Options:
  --unlogged           create the table UNLOGGED (faster writes, emptied after a crash)
  --migration N        only migration N, applied once and recorded (a file per step, for
                       migration tools); it refuses to run before migration N-1
  --functions          only the SQL functions: run them after the migrations of every upgrade
  --cache              also the read cache's triggers (createSessions({ cache })), after the
                       functions: for applications that turn the cache on
  --list               list the migrations this version ships

--database-url and --data-dir do not apply: pipe the output to psql.`,
  options: {
    unlogged: { type: "boolean" },
    cache: { type: "boolean" },
    migration: { type: "string" },
    functions: { type: "boolean" },
    list: { type: "boolean" },
  },
  validate(ctx) {
    if (ctx.common.databaseUrl !== undefined || ctx.common.dataDir !== undefined) {
      usage(ctx, "sql connects to no database: run its output with psql -v ON_ERROR_STOP=1");
    }
    const parts = ["migration", "functions", "list"].filter((name) => ctx.values[name] !== undefined);
    if (parts.length > 1) usage(ctx, `give one of --migration, --functions and --list, not ${parts.map((p) => `--${p}`).join(" and ")}`);
    if (ctx.values.unlogged === true && (ctx.values.functions === true || ctx.values.list === true)) {
      usage(ctx, "--unlogged goes with the whole script or a --migration, which create the table");
    }
    if (ctx.values.cache === true && (ctx.values.migration !== undefined || ctx.values.list === true)) {
      usage(ctx, "--cache goes with the whole script or --functions, after which its triggers are made");
    }
    const migration = optionalInteger(ctx.values, "migration", ctx.command, 1, 999);
    const known = shippedMigrations().map((m) => m.version);
    if (migration !== undefined && !known.includes(migration)) {
      usage(ctx, `there is no migration ${migration}: this version ships ${known.join(", ")} (pgsession sql --list)`);
    }
  },
  async run(ctx) {
    if (ctx.values.list === true) {
      const migrations = shippedMigrations();
      ctx.stdout.write(
        ctx.common.json
          ? toJson({ migrations })
          : formatTable(
              ["version", "name"],
              migrations.map((m) => [String(m.version), m.name]),
            ),
      );
      return EXIT.ok;
    }
    const migration = optionalInteger(ctx.values, "migration", ctx.command, 1, 999);
    const sql = installScript({
      ...(ctx.common.schema !== undefined && { schema: ctx.common.schema }),
      ...(ctx.common.table !== undefined && { table: ctx.common.table }),
      unlogged: ctx.values.unlogged === true,
      cache: ctx.values.cache === true,
      ...(migration !== undefined && { only: migration }),
      ...(ctx.values.functions === true && { only: "functions" as const }),
    });
    ctx.stdout.write(ctx.common.json ? toJson({ sql }) : sql);
    return EXIT.ok;
  },
};
