/**
 * The `pgsession` command line: finds the command, parses its options, runs it, and turns
 * whatever it throws into a message on stderr and an exit code.
 * @module
 */
import { COMMON_HELP, CliUsageError, parseCommand } from "./args.js";
import { errorCodeOf, EXIT, exitCodeOf, type CliIo, type Command, type CommandContext } from "./command.js";
export type { CliIo } from "./command.js";
import { toJson } from "./format.js";
import { demoCommand } from "./commands/demo.js";
import { listCommand } from "./commands/list.js";
import { migrateCommand } from "./commands/migrate.js";
import { pruneCommand } from "./commands/prune.js";
import { revokeCommand } from "./commands/revoke.js";
import { sqlCommand } from "./commands/sql.js";
import { statsCommand } from "./commands/stats.js";
import { statusCommand } from "./commands/status.js";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  migrateCommand,
  sqlCommand,
  statusCommand,
  pruneCommand,
  listCommand,
  revokeCommand,
  statsCommand,
  demoCommand,
];

const MAIN_HELP = `Usage: pgsession <command> [options]

Administer pgsession's sessions table, or run the demo app.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}

Database: --database-url URL, else DATABASE_URL, else the PG* variables (PGHOST, PGUSER...),
e.g. DATABASE_URL=postgres://user:password@localhost:5432/app. Without any of them a command
refuses to run, except demo; --pglite [DIR] picks the embedded PGlite database in DIR
(default ./.pgsession), which only migrate and demo create.

Exit codes: 0 ok, 1 unexpected failure, 2 usage error, 3 configuration error,
4 database error, 5 nothing found.

Run \`pgsession <command> --help\` for a command's options.
`;

function helpOf(command: Command): string {
  return `${command.help}\n\n${COMMON_HELP}\n`;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(["status", "--json"], io);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  const wantsJson = rest.includes("--json");
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    io.stdout.write(topic ? helpOf(topic) : MAIN_HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    const { createRequire } = await import("node:module");
    io.stdout.write(`${(createRequire(import.meta.url)("../../package.json") as { version: string }).version}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new CliUsageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
    const { values, common } = parseCommand(command.name, [...rest], command.options);
    if (common.help) {
      io.stdout.write(helpOf(command));
      return EXIT.ok;
    }
    const ctx: CommandContext = { command: command.name, values, common, ...io };
    command.validate?.(ctx);
    return await command.run(ctx);
  } catch (err) {
    const code = exitCodeOf(err);
    const message = err instanceof Error ? err.message : String(err);
    if (wantsJson) {
      io.stdout.write(toJson({ error: { code: errorCodeOf(err), message, exitCode: code } }));
    }
    io.stderr.write(`pgsession${command ? ` ${command.name}` : ""}: ${message.replace(/^pgsession: /, "")}\n`);
    if (err instanceof CliUsageError) {
      // Errors found while choosing the database do not name a command: it is the one being run.
      const named = err.command ?? command?.name;
      io.stderr.write(named ? `Run \`pgsession ${named} --help\` for its options.\n` : "Run `pgsession --help` for the commands.\n");
    } else if (code === EXIT.failure) {
      io.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    }
    return code;
  }
}
