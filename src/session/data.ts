/**
 * Session data rules: prototype-free objects, key checks, and values serialized as they
 * will be stored.
 * @module
 */
import { SessionDataError } from "../errors.js";

/** Session data: a JSON object. */
export type SessionData = Record<string, unknown>;

/** A data object with no prototype: `__proto__` is an ordinary key. */
export function emptyData(): SessionData {
  return Object.create(null) as SessionData;
}

/** Copies parsed JSON into a prototype-free object. */
export function toData(value: Record<string, unknown>): SessionData {
  const data = emptyData();
  for (const key of Object.keys(value)) data[key] = value[key];
  return data;
}

const MAX_KEY_LENGTH = 256;

/** Checks a session key: 1 to 256 characters, no NUL; throws `SessionDataError`. */
export function checkKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH || key.includes("\u0000")) {
    throw new SessionDataError(`session keys must be strings of 1 to ${MAX_KEY_LENGTH} characters without NUL, got ${JSON.stringify(String(key)).slice(0, 80)}`);
  }
  return key;
}

/**
 * Serializes a value as it will be stored (`key` names it in errors). Dates become ISO strings (their JSON form);
 * `undefined` means "delete"; BigInt, functions, symbols, cycles and NUL characters (which
 * PostgreSQL's jsonb refuses) are errors.
 */
export function serializeValue(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new SessionDataError(`the value of "${key}" cannot be stored as JSON (${(cause as Error).message})`, { cause });
  }
  if (text === undefined) throw new SessionDataError(`the value of "${key}" (a ${typeof value}) cannot be stored as JSON`);
  if (text.includes("\\u0000")) throw new SessionDataError(`the value of "${key}" contains a NUL character, which PostgreSQL cannot store`);
  return text;
}

