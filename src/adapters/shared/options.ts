/**
 * Internal: the adapters check their arguments when they are created, as `createSessions`
 * does, so that a misspelled option fails at start-up with a {@link SessionConfigError}
 * naming it instead of being silently ignored on every request.
 * @module
 */
import { SessionConfigError } from "../../errors.js";
import { checkTrustProxy } from "../../session/request-context.js";

/** What an option must be (undefined is always allowed: the default applies). */
export type OptionKind = "boolean" | "function" | "sessions" | "trust" | "any";

/** The options an adapter takes, by name. */
export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** The options every adapter takes: proxy trust, the read cache's bypass (`fresh`) and failure answers. */
export const FAILURE_OPTIONS: OptionSpec = { trustProxy: "trust", fresh: "function", onStoreError: "function", onSessionGone: "function" };

const MESSAGES: Record<Exclude<OptionKind, "any" | "trust">, string> = {
  boolean: "must be true or false",
  function: "must be a function",
  sessions: "must be a session manager from createSessions()",
};

function fits(kind: OptionKind, value: unknown): boolean {
  switch (kind) {
    case "boolean":
      return typeof value === "boolean";
    case "function":
      return typeof value === "function";
    case "sessions": {
      const candidate = value as { resolve?: unknown; commit?: unknown } | null;
      return (
        typeof candidate === "object" &&
        candidate !== null &&
        typeof candidate.resolve === "function" &&
        typeof candidate.commit === "function"
      );
    }
    case "trust":
    case "any":
      return true;
  }
}

/** Throws {@link SessionConfigError} naming `name` unless `value` is of `kind` (undefined only when `optional`). */
export function checkValue(name: string, kind: OptionKind, value: unknown, optional = true): void {
  if (optional && value === undefined) return;
  if (kind === "trust") checkTrustProxy(value, name);
  else if (kind !== "any" && !fits(kind, value)) throw new SessionConfigError(name, MESSAGES[kind]);
}

/**
 * Checks an adapter's options against `spec`: an object (or undefined), no name outside
 * the spec, each value of its kind. Throws {@link SessionConfigError} naming the option.
 */
export function checkOptions(options: unknown, spec: OptionSpec, of: string): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw new SessionConfigError("options", "expected an object");
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(spec, name)) throw new SessionConfigError(name, `is not an option of ${of}`);
    checkValue(name, spec[name]!, (options as Record<string, unknown>)[name]);
  }
}

/** Throws {@link SessionConfigError} unless `sessions` is a session manager. */
export function checkSessions(sessions: unknown): void {
  checkValue("sessions", "sessions", sessions, false);
}
