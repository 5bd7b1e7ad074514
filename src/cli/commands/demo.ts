/**
 * `pgsession demo`: the demo web app, on the same database as the other commands.
 * @module
 */
import { CliUsageError, optionalInteger, optionalString } from "../args.js";
import { EXIT, usage, type Command, type CommandContext } from "../command.js";
import { openSessions } from "../connect.js";
import type { DemoData } from "../demo/app.js";
import { startDemoServer } from "../demo/server.js";

const MAX_PORT = 65_535;

/** The port to listen on and where it came from: `--port` wins over `PORT`, then 3000. */
function portOf(ctx: CommandContext): { port: number; source: string } {
  const flag = optionalInteger(ctx.values, "port", ctx.command, 0, MAX_PORT);
  if (flag !== undefined) return { port: flag, source: "--port" };
  const env = ctx.env.PORT;
  if (env === undefined) return { port: 3000, source: "the default port" };
  if (!/^\d+$/.test(env) || Number(env) > MAX_PORT) {
    usage(ctx, `PORT must be a whole number from 0 to ${MAX_PORT}, not ${JSON.stringify(env)} (e.g. PORT=8080; --port N overrides it)`);
  }
  return { port: Number(env), source: "PORT" };
}

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  summary: "run the demo web app (sign in, count, see and sign out your devices)",
  help: `Usage: pgsession demo [--port N] [--host ADDRESS] [options]

Serves a small web app on pgsession: sign in with any name, a counter kept in the
session, your sessions on every device with "sign out that device" and "sign out all other
devices", and the session cookie's attributes explained. Migrates the table first.
Unlike the other commands it needs no database setting: without DATABASE_URL (or
--database-url) it keeps its data in the embedded PGlite database in ./.pgsession (or
--pglite DIR), created when missing, so sessions survive restarts.
Stops on Ctrl-C (SIGINT) or SIGTERM.

Options:
  --port N             port to listen on, 0 for any free one (default: $PORT, else 3000)
  --host ADDRESS       address to listen on (default 127.0.0.1)`,
  options: { port: { type: "string", short: "p" }, host: { type: "string" } },
  validate(ctx) {
    portOf(ctx);
    const host = optionalString(ctx.values, "host", ctx.command);
    if (host !== undefined && !/^[\w.:-]+$/.test(host)) usage(ctx, `--host must be an address or host name, not ${JSON.stringify(host)}`);
  },
  async run(ctx) {
    const { port, source } = portOf(ctx);
    const host = optionalString(ctx.values, "host", ctx.command) ?? "127.0.0.1";
    const { sessions, target } = await openSessions<DemoData>(
      ctx.common,
      ctx.env,
      ctx.cwd,
      // "Last seen" moves once a minute here, so the device list visibly changes while you try it.
      { touchAfter: "1m" },
      {
        embeddedByDefault: true,
        create: true,
        // PGlite takes seconds to start: say so before the terminal goes quiet.
        beforeOpen: (chosen) => {
          if (chosen.kind === "pglite" && !ctx.common.json) {
            ctx.stdout.write(`pgsession demo: starting the embedded PostgreSQL (PGlite) in ${chosen.location}…\n`);
          }
        },
      },
    );
    try {
      await sessions.migrate();
      const stopPruning = sessions.startPruning({ every: "10m" });
      // Shown, not hidden: a doubled cookie signs the visitor out (see the README's FAQ).
      sessions.on("duplicateCookie", ({ count }) => {
        ctx.stderr.write(`pgsession demo: a request carried the session cookie ${count} times and was treated as signed out\n`);
      });
      const database = target.kind === "pglite" ? "embedded PGlite" : "PostgreSQL";
      const server = await startDemoServer({ sessions, host, port, database }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE")
          throw new CliUsageError(
            `port ${port} on ${host} (${source}) is already in use: choose another with --port (0 picks a free one)`,
            ctx.command,
          );
        throw err;
      });
      if (ctx.common.json) ctx.stdout.write(JSON.stringify({ url: server.url, database: target }) + "\n");
      else
        ctx.stdout.write(
          `pgsession demo: ${server.url}  (sessions in ${target.kind === "pglite" ? `PGlite at ${target.location}` : target.location}; Ctrl-C stops)\n`,
        );
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      stopPruning();
      await server.close();
      if (!ctx.common.json) ctx.stdout.write("pgsession demo: stopped\n");
      return EXIT.ok;
    } finally {
      await sessions.close();
    }
  },
};
