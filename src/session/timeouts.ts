/**
 * The timeout policy, in one place: the idle (sliding) timeout, the absolute lifetime, how
 * often a read may extend the idle expiry (`touchAfter`), the per-login overrides, and the
 * Max-Age of a persistent ("remember me") cookie.
 * @module
 */

/** Timeouts of one session, in milliseconds. */
export interface TimeoutPolicy {
  /** Idle (sliding) timeout: the session ends this long after a request last extended it. */
  readonly idleMs: number;
  /** Absolute lifetime, counted from creation (or login); rotation does not reset it. */
  readonly absoluteMs: number;
  /** A read extends the idle expiry only once the last extension is this old. */
  readonly touchAfterMs: number;
}

/**
 * The timeouts of a session: `base` (the configured ordinary or remember-me policy), with a
 * login's own idle and absolute durations when given. A touch is never rarer than a tenth
 * of the idle timeout, so an overridden, shorter idle timeout still slides. An absolute
 * lifetime shorter than the idle timeout is kept: the session ends then (the idle expiry
 * is capped at it), never later.
 *
 * @example
 * ```ts
 * timeoutPolicy({ idleMs: 86_400_000, absoluteMs: 604_800_000, touchAfterMs: 8_640_000 }, { idleMs: 3_600_000 });
 * // { idleMs: 3_600_000, absoluteMs: 604_800_000, touchAfterMs: 360_000 }
 * ```
 */
export function timeoutPolicy(
  base: TimeoutPolicy,
  override: { idleMs?: number | undefined; absoluteMs?: number | undefined } = {},
): TimeoutPolicy {
  const idleMs = override.idleMs ?? base.idleMs;
  const absoluteMs = override.absoluteMs ?? base.absoluteMs;
  return {
    idleMs,
    absoluteMs,
    touchAfterMs: idleMs === base.idleMs ? base.touchAfterMs : Math.min(base.touchAfterMs, defaultTouchAfter(idleMs)),
  };
}

/**
 * How often a read extends the idle expiry when `touchAfter` is not configured: a tenth of
 * the idle timeout, so most requests write nothing and a session still slides.
 *
 * @example
 * ```ts
 * defaultTouchAfter(86_400_000); // 8_640_000
 * ```
 */
export function defaultTouchAfter(idleMs: number): number {
  return Math.floor(idleMs / 10);
}

/**
 * A fixed lifetime that never slides (the low-level token store's sessions): reads never
 * extend it.
 *
 * @example
 * ```ts
 * fixedLifetime(3_600_000); // { idleMs: 3_600_000, absoluteMs: 3_600_000, touchAfterMs: 3_600_000 }
 * ```
 */
export function fixedLifetime(ttlMs: number): TimeoutPolicy {
  return { idleMs: ttlMs, absoluteMs: ttlMs, touchAfterMs: ttlMs };
}

/**
 * The Max-Age of a session's cookie: none (a browser-session cookie) unless it is a
 * remember-me session; then what is left of the session's absolute lifetime, or the
 * configured `cookie.maxAge` when that is shorter: a cookie never outlives its session.
 *
 * @example
 * ```ts
 * cookieMaxAge({ remember: true, absoluteExpiresAt }, undefined, new Date()); // ms until absoluteExpiresAt
 * ```
 */
export function cookieMaxAge(
  session: { remember: boolean; absoluteExpiresAt: Date },
  configuredMs: number | undefined,
  now: Date,
): number | undefined {
  if (!session.remember) return undefined;
  const leftMs = Math.max(0, session.absoluteExpiresAt.getTime() - now.getTime());
  return configuredMs === undefined ? leftMs : Math.min(configuredMs, leftMs);
}

/**
 * The absolute lifetime of a session that has none: the longest duration pgsession accepts
 * (100 years). Rows still need an absolute expiry, which every writer keeps the idle one within.
 */
export const UNBOUNDED_MS = 100 * 365 * 86_400_000;

/**
 * A lifetime that a cookie sets (express-session's model): the session slides by `idleMs`
 * (touched at a tenth of it); an absolute lifetime, when one is given, still ends it then,
 * as with {@link timeoutPolicy}.
 *
 * @example
 * ```ts
 * cookieLifetime(86_400_000); // { idleMs: 86_400_000, absoluteMs: UNBOUNDED_MS, touchAfterMs: 8_640_000 }
 * cookieLifetime(86_400_000, 604_800_000); // { idleMs: 86_400_000, absoluteMs: 604_800_000, touchAfterMs: 8_640_000 }
 * ```
 */
export function cookieLifetime(idleMs: number, absoluteMs: number = UNBOUNDED_MS): TimeoutPolicy {
  return { idleMs, absoluteMs, touchAfterMs: defaultTouchAfter(idleMs) };
}
