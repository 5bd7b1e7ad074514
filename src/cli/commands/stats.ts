/**
 * `pgsession stats`: sessions by audience, the remember-me share, recent activity.
 * @module
 */
import { EXIT, withSessions, type Command } from "../command.js";
import { formatPairs, formatPercent, formatTable, toJson } from "../format.js";

/** The `stats` command. */
export const statsCommand: Command = {
  name: "stats",
  summary: "sessions by audience, remember-me share, activity in the last hour and day",
  help: `Usage: pgsession stats [options]

Counts the live sessions per audience (with distinct users), the share of "remember me"
sessions, and how many sessions were created and seen in the last hour and the last day.
"Seen" is the last idle-timeout extension, so it is precise to touchAfter.`,
  options: {},
  async run(ctx) {
    return withSessions(ctx, async (sessions) => {
      const stats = await sessions.stats();
      if (ctx.common.json) {
        ctx.stdout.write(toJson(stats));
        return EXIT.ok;
      }
      ctx.stdout.write(
        formatPairs([
          ["live sessions", String(stats.live)],
          ["distinct users", String(stats.users)],
          ["remember me", `${stats.remember} (${formatPercent(stats.rememberShare)})`],
          ["created", `${stats.created.lastHour} in the last hour, ${stats.created.lastDay} in the last day`],
          ["seen", `${stats.seen.lastHour} in the last hour, ${stats.seen.lastDay} in the last day`],
        ]),
      );
      if (stats.byAudience.length > 0) {
        ctx.stdout.write(
          "\n" +
            formatTable(
              ["audience", "sessions", "users"],
              stats.byAudience.map((row) => [row.audience ?? "(none)", String(row.sessions), String(row.users)]),
            ),
        );
      }
      return EXIT.ok;
    });
  },
};
