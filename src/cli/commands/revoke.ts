/**
 * `pgsession revoke`: ends one session, or all (or all but one) of a user's sessions.
 * @module
 */
import { optionalString } from "../args.js";
import { EXIT, usage, withSessions, type Command } from "../command.js";
import { toJson } from "../format.js";

/** The `revoke` command. */
export const revokeCommand: Command = {
  name: "revoke",
  summary: "revoke one session, or a user's sessions",
  help: `Usage: pgsession revoke --session PUBLIC_ID [options]
       pgsession revoke --user ID [--except PUBLIC_ID] [--audience NAME] [options]

Deletes sessions server-side: the next request with their cookie gets a new, anonymous
session. Public ids are those \`pgsession list\` shows (never the cookie's token).
Exits with 5 when --session names no session.

Options:
  --session PUBLIC_ID  the session to revoke
  --user ID            revoke every session of this user
  --except PUBLIC_ID   with --user: keep this one session
  --audience NAME      with --user: only the sessions of this audience`,
  options: {
    session: { type: "string", short: "s" },
    user: { type: "string", short: "u" },
    except: { type: "string" },
    audience: { type: "string" },
  },
  validate(ctx) {
    const session = optionalString(ctx.values, "session", ctx.command);
    const user = optionalString(ctx.values, "user", ctx.command);
    const except = optionalString(ctx.values, "except", ctx.command);
    const audience = optionalString(ctx.values, "audience", ctx.command);
    if (session === undefined && user === undefined) usage(ctx, "give --session PUBLIC_ID or --user ID");
    if (session !== undefined && user !== undefined) usage(ctx, "give either --session or --user, not both");
    if (session !== undefined && (except !== undefined || audience !== undefined)) {
      usage(ctx, "--except and --audience go with --user, not with --session");
    }
  },
  async run(ctx) {
    const session = optionalString(ctx.values, "session", ctx.command);
    const user = optionalString(ctx.values, "user", ctx.command);
    const except = optionalString(ctx.values, "except", ctx.command);
    const audience = optionalString(ctx.values, "audience", ctx.command);
    return withSessions(ctx, async (sessions) => {
      if (session !== undefined) {
        const revoked = await sessions.revokeSession(session);
        if (ctx.common.json) ctx.stdout.write(toJson({ session, revoked: revoked ? 1 : 0 }));
        else ctx.stdout.write(revoked ? `revoked session ${session}\n` : "");
        if (!revoked) {
          if (!ctx.common.json) ctx.stderr.write(`pgsession revoke: no session with public id ${JSON.stringify(session)}\n`);
          return EXIT.notFound;
        }
        return EXIT.ok;
      }
      const count = await sessions.revokeUserSessions(user as string, {
        ...(except !== undefined && { except }),
        ...(audience !== undefined && { audience }),
      });
      if (ctx.common.json) ctx.stdout.write(toJson({ user, except: except ?? null, audience: audience ?? null, revoked: count }));
      else
        ctx.stdout.write(
          `revoked ${count} session${count === 1 ? "" : "s"} of user ${JSON.stringify(user)}${except ? ` (kept ${except})` : ""}\n`,
        );
      return EXIT.ok;
    });
  },
};
