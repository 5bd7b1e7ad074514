/**
 * `pgsession demo`: the demo web app, on the same database as the other commands.
 * @module
 */
import { optionalInteger, optionalString } from "../args.js";
import { EXIT, usage, type Command } from "../command.js";

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  summary: "run the demo web app (sign in, count, see and sign out your devices)",
  help: `Usage: pgsession demo [--port N] [--host ADDRESS] [options]

Serves a small web app on pgsession: sign in with any name, a counter kept in the
session, your sessions on every device with "sign out this device" and "sign out all other
devices", and the session cookie's attributes explained. Migrates the table first.
Without DATABASE_URL it keeps its data in ./.pgsession, so sessions survive restarts.

Options:
  --port N             port to listen on, 0 for any free one (default 3000)
  --host ADDRESS       address to listen on (default 127.0.0.1)`,
  options: { port: { type: "string", short: "p" }, host: { type: "string" } },
  validate(ctx) {
    optionalInteger(ctx.values, "port", ctx.command, 0, 65_535);
    const host = optionalString(ctx.values, "host", ctx.command);
    if (host !== undefined && !/^[\w.:-]+$/.test(host)) usage(ctx, `--host must be an address or host name, not ${JSON.stringify(host)}`);
  },
  async run(ctx) {
    ctx.stderr.write("pgsession demo: not built yet\n");
    return EXIT.failure;
  },
};
