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
  pglite: { type: "string" },
  "data-dir": { type: "string" },
} as const satisfies OptionSpecs;

/** The embedded database's directory when `--pglite` names none, relative to the working directory. */
export const DEFAULT_DATA_DIR = ".pgsession";

/** Help lines for {@link COMMON_OPTIONS}. */
export const COMMON_HELP = `Common options:
  --json               machine-readable output (one JSON document on stdout)
  --schema NAME        schema of the sessions table (default: pgsession)
  --table NAME         name of the sessions table (default: sessions)
  --database-url URL   the PostgreSQL server, e.g. postgres://user:password@localhost:5432/app
                       (default: $DATABASE_URL, then the PG* variables)
  --pglite [DIR]       the embedded PGlite database in DIR instead (default DIR: ./.pgsession);
                       only migrate (and demo) create it, the other commands need it to exist
  --data-dir DIR       the same as --pglite DIR
  -h, --help           show this help`;

/** The parsed common options. */
export interface CommonValues {
  json: boolean;
  help: boolean;
  schema: string | undefined;
  table: string | undefined;
  /** `--database-url` as given, even empty: the connection code says what is wrong with it. */
  databaseUrl: string | undefined;
  /** The embedded database's directory from `--pglite [DIR]` or `--data-dir DIR`. */
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
 * `--pglite` takes an optional directory, which parseArgs cannot express: a bare `--pglite`
 * (last, or followed by another option) becomes `--pglite=` the default directory.
 */
function defaultPgliteDir(argv: string[]): string[] {
  return argv.map((arg, i) => {
    const next = argv[i + 1];
    return arg === "--pglite" && (next === undefined || next.startsWith("-")) ? `--pglite=${DEFAULT_DATA_DIR}` : arg;
  });
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
    parsed = parseArgs({ args: joinDashValues(defaultPgliteDir(argv), options), options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new CliUsageError(cleanParseMessage((err as Error).message), command);
  }
  const values = parsed.values as Values;
  const text = (name: string): string | undefined => {
    const value = values[name];
    if (typeof value === "string" && value.length === 0) throw new CliUsageError(`--${name} needs a non-empty value`, command);
    return typeof value === "string" ? value : undefined;
  };
  const pglite = text("pglite");
  const dataDir = text("data-dir");
  if (pglite !== undefined && dataDir !== undefined) throw new CliUsageError("give --pglite DIR or --data-dir DIR, not both", command);
  return {
    values,
    common: {
      json: values.json === true,
      help: values.help === true,
      schema: text("schema"),
      table: text("table"),
      databaseUrl: typeof values["database-url"] === "string" ? values["database-url"] : undefined,
      dataDir: pglite ?? dataDir,
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
