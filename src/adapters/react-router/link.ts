/**
 * Internal: how a React Router session (the object of their `createSession`, which keeps
 * its data in a Map of its own) is tied to the pgsession session behind it, and how its
 * changes reach that session. Each key is compared, as JSON text, with what was read (or
 * last carried over): only the keys that differ are set or deleted, so the commit writes
 * only them, and a value changed in place (an array pushed to) counts as changed, as it
 * does in React Router's own storages, which serialize the data at commit.
 * @module
 */
import type { Session, SessionData } from "../../session/session.js";

/** A React Router session's pgsession side. */
export interface Link {
  /** The pgsession session behind it. */
  readonly pg: Session<SessionData>;
  /** The JSON text of each key as pgsession holds it (read, or last carried over). */
  texts: Map<string, string>;
  /** Whether the request that read it was secure (for a clearing cookie's `Secure`). */
  readonly secure: boolean;
}

// Keyed by the React Router session object: nothing is added to it, and nothing outlives it.
const links = new WeakMap<object, Link>();

/** JSON text of a value, or null when JSON cannot hold it (pgsession's `set` says why). */
function textOf(value: unknown): string | null {
  try {
    const text = JSON.stringify(value);
    return typeof text === "string" ? text : null;
  } catch {
    return null;
  }
}

/** The JSON text of each key of `data`. */
export function textsOf(data: Record<string, unknown>): Map<string, string> {
  const texts = new Map<string, string>();
  for (const key of Object.keys(data)) {
    const text = textOf(data[key]);
    if (text !== null) texts.set(key, text);
  }
  return texts;
}

/** Ties `session` (React Router's) to `pg`, whose data it was created with. */
export function linkSession(session: object, pg: Session<SessionData>, secure: boolean): void {
  links.set(session, { pg, texts: textsOf(pg.toJSON()), secure });
}

/** The link of a session from a pgsession storage; a `TypeError` for any other object. */
export function linkOf(session: unknown): Link {
  const link = typeof session === "object" && session !== null ? links.get(session) : undefined;
  if (link === undefined) throw new TypeError("pgsession: not a session from a pgsession storage's getSession()");
  return link;
}

/**
 * Carries the changes of `data` (a React Router session's `data`) over to the pgsession
 * session: keys whose value differs from what pgsession holds are set, keys gone are
 * deleted. A value JSON cannot hold makes pgsession's `set` throw `SessionDataError`.
 */
export function carryOver(link: Link, data: Record<string, unknown>): void {
  const { pg, texts } = link;
  const next = new Map<string, string>();
  for (const key of Object.keys(data)) {
    const value = data[key];
    if (value === undefined) {
      if (texts.has(key)) pg.delete(key);
      continue;
    }
    const text = textOf(value);
    if (text === null || text !== texts.get(key)) pg.set(key, value);
    next.set(key, text as string);
  }
  for (const key of texts.keys()) if (!Object.hasOwn(data, key)) pg.delete(key);
  link.texts = next;
}
