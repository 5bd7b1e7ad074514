/**
 * Command-line parsing with `node:util` parseArgs: the options every command shares,
 * per-command options, and usage errors that name the mistake.
 * @module
 */
import { parseDuration } from "../lib/duration.js";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake on the command line: exit code 2, with the command's usage. */
export class CliUsageError extends Error {
  /** Stable code, like the library's errors. */
  readonly code = "ERR_CLI_USAGE";
  /** The command whose usage to print, when known. */
  readonly command: string | undefined;

  constructor(message: string, command?: string) {
    super(message);
    this.name = "CliUsageError";
    this.command = command;
  }
}

/** Options definitions in parseArgs' shape. */
export type OptionSpecs = NonNullable<ParseArgsConfig["options"]>;

/** Options of every command. */
export const COMMON_OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  schema: { type: "string" },
  table: { type: "string" },
  "database-url": { type: "string" },
  "data-dir": { type: "string" },
} as const satisfies OptionSpecs;

/** Help lines for {@link COMMON_OPTIONS}. */
export const COMMON_HELP = `Common options:
  --json               machine-readable output (one JSON document on stdout)
  --schema NAME        schema of the sessions table (default: pgsession)
  --table NAME         name of the sessions table (default: sessions)
  --database-url URL   PostgreSQL to use (default: $DATABASE_URL, then the PG* variables)
  --data-dir DIR       embedded PGlite directory when no server is configured (default: ./.pgsession)
  -h, --help           show this help`;

/** The parsed common options. */
export interface CommonValues {
  json: boolean;
  help: boolean;
  schema: string | undefined;
  table: string | undefined;
  databaseUrl: string | undefined;
  dataDir: string | undefined;
}

/** Values parsed for one command: strings and booleans by option name. */
export type Values = Record<string, string | boolean | undefined>;

/**
 * Public ids and user ids may start with "-" (base64url), which parseArgs refuses as an
 * ambiguous value. A string option followed by something that is not itself an option is
 * rewritten to the unambiguous `--name=value` form.
 */
function joinDashValues(argv: string[], options: OptionSpecs): string[] {
  const known = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    known.add(`--${name}`);
    if (spec.short) known.add(`-${spec.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const spec = arg.startsWith("--") ? options[arg.slice(2)] : undefined;
    if (spec?.type === "string" && next !== undefined && next.startsWith("-") && !known.has(next.split("=")[0] as string)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Parses `argv` (without the command name) against the common options and `specs`.
 * Unknown options, missing values and stray positionals throw {@link CliUsageError}.
 *
 * @example
 * ```ts
 * const { values, common } = parseCommand("list", ["--user", "alice", "--json"], { user: { type: "string" } });
 * ```
 */
export function parseCommand(command: string, argv: string[], specs: OptionSpecs): { values: Values; common: CommonValues } {
  const options: OptionSpecs = { ...COMMON_OPTIONS, ...specs };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joinDashValues(argv, options), options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new CliUsageError(cleanParseMessage((err as Error).message), command);
  }
  const values = parsed.values as Values;
  const text = (name: string): string | undefined => {
    const value = values[name];
    if (typeof value === "string" && value.length === 0) throw new CliUsageError(`--${name} needs a non-empty value`, command);
    return typeof value === "string" ? value : undefined;
  };
  return {
    values,
    common: {
      json: values.json === true,
      help: values.help === true,
      schema: text("schema"),
      table: text("table"),
      databaseUrl: text("database-url"),
      dataDir: text("data-dir"),
    },
  };
}

// parseArgs' messages mention internals ("To specify an option argument starting with a dash use...").
function cleanParseMessage(message: string): string {
  return message.split(/\.\s+To specify/)[0]!.replace(/^TypeError \[[A-Z_]+\]: /, "");
}

/** A required string option, or a usage error naming it. */
export function requireString(values: Values, name: string, command: string): string {
  const value = values[name];
  if (typeof value !== "string" || value.length === 0) throw new CliUsageError(`--${name} is required`, command);
  return value;
}

/** An optional string option; an empty value is a usage error. */
export function optionalString(values: Values, name: string, command: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0) throw new CliUsageError(`--${name} needs a non-empty value`, command);
  return value;
}

/** An optional whole-number option within bounds. */
export function optionalInteger(values: Values, name: string, command: string, min: number, max: number): number | undefined {
  const value = optionalString(values, name, command);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new CliUsageError(`--${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`, command);
  }
  return Number(value);
}

/**
 * An optional duration option (`"20ms"`, `"1s"`, or milliseconds), zero allowed, at most
 * `maxMs`; resolves to milliseconds.
 */
export function optionalDurationMs(values: Values, name: string, command: string, maxMs: number): number | undefined {
  const value = optionalString(values, name, command);
  if (value === undefined) return undefined;
  const invalid = () =>
    new CliUsageError(`--${name} must be a duration from 0 to ${maxMs} ms (e.g. "20ms", "1s"), not ${JSON.stringify(value)}`, command);
  let ms: number;
  try {
    ms = parseDuration(/^\d+$/.test(value) ? Number(value) : value, `--${name}`, { allowZero: true });
  } catch {
    throw invalid();
  }
  if (ms > maxMs) throw invalid();
  return ms;
}
