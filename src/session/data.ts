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
    throw new SessionDataError(
      `session keys must be strings of 1 to ${MAX_KEY_LENGTH} characters without NUL, got ${JSON.stringify(String(key)).slice(0, 80)}`,
    );
  }
  return key;
}

/** Whether a string has no unpaired surrogate (`String.prototype.isWellFormed`, Node 20+; not yet in this TypeScript lib). */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

function fail(path: string, problem: string): never {
  throw new SessionDataError(`session data: ${path} ${problem}; nothing was set`);
}

/**
 * Refuses any part of a value that would not come back equal from JSON and jsonb: a
 * function, symbol or `undefined` where JSON drops it or writes null (inside arrays; as an
 * object's property a function or symbol, while an `undefined` property is simply absent),
 * NaN and the infinities (null), BigInt, Maps and Sets (`{}`), cycles, invalid Dates, and
 * strings with NUL or an unpaired surrogate (which PostgreSQL's jsonb refuses). Objects
 * with `toJSON` (Dates) are checked as what it returns.
 */
function checkValue(value: unknown, path: string, ancestors: object[]): void {
  switch (typeof value) {
    case "string":
      if (!isWellFormed(value)) fail(path, "contains an unpaired UTF-16 surrogate, which PostgreSQL cannot store");
      if (value.includes("\u0000")) fail(path, "contains a NUL character, which PostgreSQL cannot store");
      return;
    case "number":
      if (!Number.isFinite(value)) fail(path, `is ${value}, which JSON stores as null`);
      return;
    case "boolean":
      return;
    case "object":
      break;
    default:
      fail(path, `is ${typeof value === "undefined" ? "undefined" : `a ${typeof value}`}, which JSON cannot store`);
  }
  if (value === null) return;
  if (ancestors.includes(value)) fail(path, "refers back to an object that contains it (a cycle)");
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    const json: unknown = toJSON.call(value, path);
    if (json === null || json === undefined) fail(path, `becomes ${String(json)} in JSON (an invalid Date?)`);
    ancestors.push(value);
    checkValue(json, path, ancestors);
    ancestors.pop();
    return;
  }
  if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet) {
    fail(path, `is a ${value.constructor.name}, which JSON stores as {}`);
  }
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkValue(value[i], `${path}[${i}]`, ancestors);
  } else {
    for (const key of Object.keys(value)) {
      if (key.includes("\u0000") || !isWellFormed(key)) fail(`${path}.${key}`, "has a key PostgreSQL cannot store");
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) checkValue(item, `${path}.${JSON.stringify(key)}`, ancestors);
    }
  }
  ancestors.pop();
}

/**
 * Serializes a value as it will be stored (`key` names it in errors). `undefined` means
 * "delete"; Dates become ISO strings (their JSON form); anything that would not come back
 * equal is refused with `SessionDataError` naming its path.
 */
export function serializeValue(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  try {
    checkValue(value, JSON.stringify(key), []);
    return JSON.stringify(value);
  } catch (cause) {
    if (cause instanceof SessionDataError) throw cause;
    // Deeper than the stack (RangeError), or a getter or toJSON that threw.
    throw new SessionDataError(`session data: the value of ${JSON.stringify(key)} cannot be stored as JSON (${(cause as Error).message})`, {
      cause,
    });
  }
}
