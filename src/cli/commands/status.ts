/**
 * `pgsession status`: schema version, live and expired counts, the oldest session.
 * @module
 */
import { EXIT, withSessions, type Command } from "../command.js";
import { formatPairs, formatRelative, formatTime, toJson } from "../format.js";

/** The `status` command. */
export const statusCommand: Command = {
  name: "status",
  summary: "schema version, live and expired sessions, the oldest session",
  help: `Usage: pgsession status [options]

Shows where the sessions live, which migrations are applied, how many sessions are live
and how many expired ones wait for \`pgsession prune\`, and the oldest live session.
Exits with 5 when the table does not exist yet (run \`pgsession migrate\`).`,
  options: {},
  async run(ctx) {
    return withSessions(ctx, async (sessions, target) => {
      const names = sessions.table;
      const { applied, latest } = await sessions.migrationStatus();
      const version = Math.max(0, ...applied);
      const counts = await sessions.counts();
      const exists = counts !== null;
      const pending = Math.max(0, latest - version);
      if (ctx.common.json) {
        ctx.stdout.write(toJson({ target, schema: names.schema, table: names.table, version, latest, pending, migrated: exists, counts }));
      } else {
        const pairs: Array<[string, string]> = [
          ["database", `${target.kind} ${target.location}`],
          ["table", `${names.schema}.${names.table}`],
          [
            "schema version",
            exists
              ? `${version} of ${latest}${pending > 0 ? ` (${pending} pending: run pgsession migrate)` : " (up to date)"}`
              : "not migrated (run pgsession migrate)",
          ],
        ];
        if (counts) {
          pairs.push(
            ["live sessions", `${counts.live} (${counts.authenticated} signed in)`],
            ["expired sessions", `${counts.expired}${counts.expired > 0 ? " (run pgsession prune)" : ""}`],
            [
              "oldest session",
              counts.oldestCreatedAt ? `${formatTime(counts.oldestCreatedAt)} (${formatRelative(counts.oldestCreatedAt)})` : "-",
            ],
            [
              "newest session",
              counts.newestCreatedAt ? `${formatTime(counts.newestCreatedAt)} (${formatRelative(counts.newestCreatedAt)})` : "-",
            ],
          );
        }
        ctx.stdout.write(formatPairs(pairs));
      }
      return exists ? EXIT.ok : EXIT.notFound;
    });
  },
};
