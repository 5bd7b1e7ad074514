/**
 * `pgsession list --user ID`: a user's live sessions.
 * @module
 */
import { optionalString, requireString } from "../args.js";
import { EXIT, withSessions, type Command } from "../command.js";
import { formatTable, formatTime, toJson } from "../format.js";
import { describeUserAgent } from "../user-agent.js";

/** The `list` command. */
export const listCommand: Command = {
  name: "list",
  summary: "list a user's live sessions",
  help: `Usage: pgsession list --user ID [--audience NAME] [options]

Lists the live sessions of a user, most recently seen first, with their public ids (what
\`pgsession revoke --session\` takes), device, address and times.

Options:
  --user ID            the user id given to session.login() (required)
  --audience NAME      only the sessions of this audience`,
  options: { user: { type: "string", short: "u" }, audience: { type: "string" } },
  validate(ctx) {
    requireString(ctx.values, "user", ctx.command);
    optionalString(ctx.values, "audience", ctx.command);
  },
  async run(ctx) {
    const user = requireString(ctx.values, "user", ctx.command);
    const audience = optionalString(ctx.values, "audience", ctx.command);
    return withSessions(ctx, async (sessions) => {
      const list = await sessions.listUserSessions(user, audience === undefined ? {} : { audience });
      if (ctx.common.json) {
        ctx.stdout.write(toJson({ user, sessions: list.map(({ current: _current, ...row }) => row) }));
      } else if (list.length === 0) {
        ctx.stdout.write(`no live sessions for user ${JSON.stringify(user)}\n`);
      } else {
        ctx.stdout.write(
          formatTable(
            ["id", "device", "ip", "remember", "created", "last seen", "expires", "audience"],
            list.map((s) => [
              s.id,
              describeUserAgent(s.userAgent),
              s.ip ?? "-",
              s.remember ? "yes" : "no",
              formatTime(s.createdAt),
              formatTime(s.lastSeenAt),
              formatTime(s.expiresAt),
              s.audience ?? "-",
            ]),
          ),
        );
      }
      return EXIT.ok;
    });
  },
};
