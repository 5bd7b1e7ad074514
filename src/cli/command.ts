/**
 * What a CLI command is, what it is given, and how errors become exit codes.
 * @module
 */
import { SessionError, type Sessions } from "../index.js";
import { CliUsageError, type CommonValues, type OptionSpecs, type Values } from "./args.js";
import { NoDatabaseError, openSessions, type Target } from "./connect.js";
import type { Output } from "./format.js";

/**
 * Exit codes, stable like the library's error codes: scripts branch on them.
 *
 * | code | meaning |
 * | --- | --- |
 * | 0 | success |
 * | 1 | unexpected failure (a bug: please report it) |
 * | 2 | usage error: unknown command or option, missing or bad value |
 * | 3 | configuration error (`ERR_SESSION_CONFIG`: a bad schema or table name...) |
 * | 4 | store error (`ERR_SESSION_STORE`: database unreachable, refused a statement) |
 * | 5 | not found: nothing to act on (`revoke --session` with an unknown id, `status` before `migrate`, `--pglite` on a directory without a database) |
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 3, store: 4, notFound: 5 } as const;

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliUsageError) return EXIT.usage;
  if (err instanceof NoDatabaseError) return EXIT.notFound;
  if (err instanceof SessionError) {
    switch (err.code) {
      case "ERR_SESSION_CONFIG":
        return EXIT.config;
      case "ERR_SESSION_STORE":
        return EXIT.store;
      default:
        return EXIT.failure;
    }
  }
  return EXIT.failure;
}

/** The stable code reported with `--json` for an error. */
export function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("ERR_") ? code : "ERR_CLI_FAILURE";
}

/** What the CLI runs with: the process's streams, environment and signal. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: Output;
  stderr: Output;
  /** stderr when it is a terminal (progress bars go there), else null. */
  terminal: NodeJS.WritableStream | null;
  /** Aborted on SIGINT/SIGTERM, for long-running commands (demo). */
  signal: AbortSignal;
}

/** What a command runs with. */
export interface CommandContext extends CliIo {
  command: string;
  values: Values;
  common: CommonValues;
}

/** One CLI command. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The command's help text, without the common options. */
  help: string;
  options: OptionSpecs;
  /** Checks the options (throwing {@link CliUsageError}) before any database is opened. */
  validate?(ctx: CommandContext): void;
  /** Runs; resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}

/**
 * Opens the session manager for a command and always closes it (and so the pool or the
 * PGlite database the CLI created), whatever `fn` does. Only with `create` may a missing
 * PGlite database be created (migrate); other commands report it.
 */
export async function withSessions<T>(
  ctx: CommandContext,
  fn: (sessions: Sessions, target: Target) => Promise<T>,
  { create = false, ...options }: { unlogged?: boolean; create?: boolean } = {},
): Promise<T> {
  const { sessions, target } = await openSessions(ctx.common, ctx.env, ctx.cwd, options, { create });
  try {
    return await fn(sessions, target);
  } finally {
    await sessions.close();
  }
}

/** Throws a usage error for `ctx`'s command. */
export function usage(ctx: CommandContext, message: string): never {
  throw new CliUsageError(message, ctx.command);
}
