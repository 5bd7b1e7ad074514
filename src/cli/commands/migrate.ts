/**
 * `pgsession migrate`: creates the schema and table, or brings them up to date.
 * @module
 */
import { EXIT, withSessions, type Command } from "../command.js";
import { toJson } from "../format.js";

/** The `migrate` command. */
export const migrateCommand: Command = {
  name: "migrate",
  summary: "create the sessions table, or bring it up to date (safe to repeat)",
  help: `Usage: pgsession migrate [--unlogged] [--cache] [options]

Applies the migrations shipped with pgsession that the database does not have yet, in one
transaction under an advisory lock. Running it again is a no-op.

Options:
  --unlogged           create the table UNLOGGED (faster writes, emptied after a crash)
  --cache              also install the read cache's triggers, for applications that run
                       createSessions({ cache }) (they stay until dropped: see the README)`,
  options: { unlogged: { type: "boolean" }, cache: { type: "boolean" } },
  async run(ctx) {
    return withSessions(
      ctx,
      async (sessions, target) => {
        const applied = await sessions.migrate({ cache: ctx.values.cache === true });
        const { applied: all, latest } = await sessions.migrationStatus();
        const version = Math.max(0, ...all);
        const { schema, table } = sessions.table;
        if (ctx.common.json) {
          ctx.stdout.write(toJson({ applied, version, latest, schema, table, target }));
        } else if (applied.length === 0) {
          ctx.stdout.write(`${schema}.${table} is up to date (version ${version}) in ${target.location}\n`);
        } else {
          ctx.stdout.write(
            `applied migration${applied.length > 1 ? "s" : ""} ${applied.join(", ")} to ${schema}.${table} in ${target.location}\n`,
          );
        }
        return EXIT.ok;
      },
      { unlogged: ctx.values.unlogged === true, create: true },
    );
  },
};
