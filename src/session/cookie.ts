/**
 * The session cookie: reading the token out of a `Cookie` header, and writing the
 * `Set-Cookie` value with exactly the configured attributes. Pure string functions.
 * @module
 */
import { serialize, type SerializeOptions } from "cookie";
import { parseDuration, type Duration } from "../lib/duration.js";
import { SessionConfigError } from "../errors.js";

/** Cookie options, all optional. */
export interface CookieOptions {
  /** Cookie name. Default `"session"`. `__Host-` and `__Secure-` prefixes are honoured. */
  name?: string;
  /** Path attribute. Default `"/"`. */
  path?: string;
  /** Domain attribute. Default: none (host-only cookie). */
  domain?: string;
  /** HttpOnly attribute. Default `true`. */
  httpOnly?: boolean;
  /** Secure attribute: `"auto"` (default) sets it on HTTPS requests; `true`/`false` force it. */
  secure?: boolean | "auto";
  /** SameSite attribute. Default `"lax"`. */
  sameSite?: "lax" | "strict" | "none";
  /** Lifetime of persistent ("remember me") cookies. Default: the remember-me absolute timeout. */
  maxAge?: Duration;
  /** Partitioned attribute (CHIPS). Requires Secure. Default `false`. */
  partitioned?: boolean;
  /** Priority attribute (Chromium). Default: none. */
  priority?: "low" | "medium" | "high";
}

/** Validated cookie policy. */
export interface CookiePolicy {
  /** Cookie name. */
  readonly name: string;
  /** Path attribute. */
  readonly path: string;
  /** Domain attribute; undefined for a host-only cookie. */
  readonly domain: string | undefined;
  /** Whether HttpOnly is sent. */
  readonly httpOnly: boolean;
  /** Secure as configured; `"auto"` decides per request (see `secure` in {@link CookieOptions}). */
  readonly secure: boolean | "auto";
  /** SameSite attribute. */
  readonly sameSite: "lax" | "strict" | "none";
  /** `maxAge` in ms, a cap on a persistent cookie's lifetime; undefined: what is left of the session's absolute lifetime. */
  readonly maxAgeMs: number | undefined;
  /** Whether Partitioned is sent. */
  readonly partitioned: boolean;
  /** Priority attribute; undefined when not sent. */
  readonly priority: "low" | "medium" | "high" | undefined;
}

// RFC 6265 cookie-name: an RFC 7230 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DOMAIN = /^\.?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const PATH = /^\/[\u0021-\u003A\u003C-\u007E]*$/;
const COOKIE_KEYS = new Set(["name", "path", "domain", "httpOnly", "secure", "sameSite", "maxAge", "partitioned", "priority"]);

/**
 * Validates cookie options; throws {@link SessionConfigError} naming the option.
 *
 * @example
 * ```ts
 * const policy = createCookiePolicy({ name: "__Host-session" });
 * ```
 */
export function createCookiePolicy(options: CookieOptions = {}): CookiePolicy {
  if (options === null || typeof options !== "object") throw new SessionConfigError("cookie", "expected an object of cookie attributes");
  for (const key of Object.keys(options)) {
    if (!COOKIE_KEYS.has(key)) throw new SessionConfigError(`cookie.${key}`, `is not a cookie option (${[...COOKIE_KEYS].join(", ")})`);
  }
  const name = options.name ?? "session";
  if (typeof name !== "string" || !COOKIE_NAME.test(name) || name.length > 128) {
    throw new SessionConfigError("cookie.name", `"${String(name)}" is not a valid cookie name (letters, digits and !#$%&'*+-.^_\`|~ only)`);
  }
  const path = options.path ?? "/";
  if (typeof path !== "string" || !PATH.test(path)) {
    throw new SessionConfigError("cookie.path", `"${String(path)}" must start with "/" and contain no ";", spaces or control characters`);
  }
  const domain = options.domain;
  if (domain !== undefined && (typeof domain !== "string" || !DOMAIN.test(domain))) {
    throw new SessionConfigError("cookie.domain", `"${String(domain)}" is not a valid domain`);
  }
  const httpOnly = options.httpOnly ?? true;
  if (typeof httpOnly !== "boolean") throw new SessionConfigError("cookie.httpOnly", "must be true or false");
  const secure = options.secure ?? "auto";
  if (secure !== true && secure !== false && secure !== "auto") {
    throw new SessionConfigError("cookie.secure", `must be true, false or "auto", got ${String(secure)}`);
  }
  const sameSite = options.sameSite ?? "lax";
  if (sameSite !== "lax" && sameSite !== "strict" && sameSite !== "none") {
    throw new SessionConfigError("cookie.sameSite", `must be "lax", "strict" or "none", got ${String(sameSite)}`);
  }
  const partitioned = options.partitioned ?? false;
  if (typeof partitioned !== "boolean") throw new SessionConfigError("cookie.partitioned", "must be true or false");
  const priority = options.priority;
  if (priority !== undefined && priority !== "low" && priority !== "medium" && priority !== "high") {
    throw new SessionConfigError("cookie.priority", `must be "low", "medium" or "high", got ${String(priority)}`);
  }
  const maxAgeMs = options.maxAge === undefined ? undefined : parseDuration(options.maxAge, "cookie.maxAge");

  const needsSecure = (why: string, option: string) => {
    if (secure === false) throw new SessionConfigError(option, `${why} requires a Secure cookie, but cookie.secure is false`);
  };
  if (sameSite === "none") needsSecure("SameSite=None", "cookie.sameSite");
  if (partitioned) needsSecure("Partitioned", "cookie.partitioned");
  // Browsers apply the prefix rules whatever the case of the prefix ("__host-" too).
  const lowerName = name.toLowerCase();
  if (lowerName.startsWith("__secure-")) needsSecure('the "__Secure-" prefix', "cookie.name");
  if (lowerName.startsWith("__host-")) {
    needsSecure('the "__Host-" prefix', "cookie.name");
    if (domain !== undefined) throw new SessionConfigError("cookie.domain", 'a "__Host-" cookie must not have a Domain');
    if (path !== "/") throw new SessionConfigError("cookie.path", 'a "__Host-" cookie must have Path=/');
  }
  return { name, path, domain, httpOnly, secure, sameSite, maxAgeMs, partitioned, priority };
}

/** Whether a cookie name carries the `__Host-` or `__Secure-` prefix, in any case (as browsers read it). */
export function hasSecurePrefix(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith("__host-") || lower.startsWith("__secure-");
}

/** True when the policy sends Secure for a request whose own security is `requestSecure`. */
export function isSecureFor(policy: CookiePolicy, requestSecure: boolean): boolean {
  if (policy.secure !== "auto") return policy.secure;
  // Browsers drop these cookies without Secure, so "auto" must mean "always" for them.
  if (hasSecurePrefix(policy.name)) return true;
  if (policy.sameSite === "none" || policy.partitioned) return true;
  return requestSecure;
}

/** What goes into one Set-Cookie value. */
export interface SetCookieInput {
  /** The token, or `""` to clear the cookie. */
  value: string;
  /** Lifetime in ms for a persistent cookie; `undefined` for a browser-session cookie; 0 clears. */
  maxAgeMs: number | undefined;
  /** Whether the request was made over HTTPS (for `secure: "auto"`). */
  secure: boolean;
  /** Current time, for the Expires attribute. */
  now: Date;
}

/**
 * Serializes the session cookie with the policy's attributes.
 *
 * @example
 * ```ts
 * serializeSessionCookie(policy, { value: token, maxAgeMs: undefined, secure: true, now: new Date() });
 * // "session=...; Path=/; HttpOnly; Secure; SameSite=Lax"
 * ```
 */
export function serializeSessionCookie(policy: CookiePolicy, input: SetCookieInput): string {
  const persistent = input.maxAgeMs !== undefined;
  const secure = isSecureFor(policy, input.secure);
  if (!persistent && BASE64URL_VALUE.test(input.value)) {
    // A browser-session cookie differs from the last one only in its value (a token, whose
    // alphabet needs no encoding): its attributes are serialized once per policy.
    return `${policy.name}=${input.value}${sessionCookieAttributes(policy, secure)}`;
  }
  const maxAgeSeconds = persistent ? Math.max(0, Math.floor((input.maxAgeMs as number) / 1000)) : undefined;
  return serialize(policy.name, input.value, {
    ...attributesOf(policy, secure),
    ...(maxAgeSeconds !== undefined && {
      maxAge: maxAgeSeconds,
      expires: maxAgeSeconds === 0 ? new Date(0) : new Date(input.now.getTime() + maxAgeSeconds * 1000),
    }),
  });
}

/** The policy's attributes as `cookie.serialize` options (no lifetime). */
function attributesOf(policy: CookiePolicy, secure: boolean): SerializeOptions {
  return {
    path: policy.path,
    ...(policy.domain !== undefined && { domain: policy.domain }),
    httpOnly: policy.httpOnly,
    secure,
    sameSite: policy.sameSite,
    ...(policy.partitioned && { partitioned: true }),
    ...(policy.priority !== undefined && { priority: policy.priority }),
  };
}

const BASE64URL_VALUE = /^[A-Za-z0-9_-]+$/;
const attributeCache = new WeakMap<CookiePolicy, { secure?: string; plain?: string }>();

/** "; Path=/; HttpOnly; ..." of a browser-session cookie, serialized by `cookie` once per policy and Secure flag. */
function sessionCookieAttributes(policy: CookiePolicy, secure: boolean): string {
  let cached = attributeCache.get(policy);
  if (!cached) attributeCache.set(policy, (cached = {}));
  const key = secure ? "secure" : "plain";
  return (cached[key] ??= serialize(policy.name, "x", attributesOf(policy, secure)).slice(policy.name.length + 2));
}

/** Longest Cookie header we read; past it the request has no session (RFC 6265 asks for 4 KiB a cookie). */
export const MAX_COOKIE_HEADER = 16 * 1024;

/**
 * Reads the value of the cookie `name` from a `Cookie` header. Returns `null` when it is
 * missing, appears more than once (a cookie-tossing attempt or a stale Path), is quoted
 * (`name="..."`: pgsession never sends quotes), or the header is over-long. Names and
 * values are trimmed of spaces and tabs only (RFC 6265), never of other whitespace, so
 * `\u00a0session` is not `session`. Never throws.
 *
 * @example
 * ```ts
 * readCookie("a=1; session=abc", "session"); // "abc"
 * ```
 */
export function readCookie(header: string | readonly string[] | null | undefined, name: string): string | null {
  const found = scanCookie(header, name);
  return typeof found === "string" && !found.startsWith('"') ? found : null;
}

/**
 * How many times the cookie `name` appears in a `Cookie` header (0 for a header that is
 * missing or over-long): more than once is what {@link readCookie} refuses.
 *
 * @example
 * ```ts
 * countCookie("session=a; session=b", "session"); // 2
 * ```
 */
export function countCookie(header: string | readonly string[] | null | undefined, name: string): number {
  const found = scanCookie(header, name);
  return typeof found === "string" ? 1 : found;
}

/** The cookie's value when it appears exactly once, else how many times it appears (0, or 2 and more); no allocation per request. */
function scanCookie(header: string | readonly string[] | null | undefined, name: string): string | number {
  const text = typeof header === "string" ? header : Array.isArray(header) ? header.join("; ") : null;
  if (text === null || text.length > MAX_COOKIE_HEADER) return 0;
  let value: string | null = null;
  let count = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(";", start);
    if (end === -1) end = text.length;
    const eq = text.indexOf("=", start);
    if (eq !== -1 && eq < end) {
      const key = trimSpaces(text, start, eq);
      if (key === name) {
        count += 1;
        value = trimSpaces(text, eq + 1, end);
      }
    }
    start = end + 1;
  }
  return count === 1 && value !== null ? value : count;
}

/** `text.slice(start, end)` without the spaces and tabs around it (RFC 6265's OWS; not `trim()`, which also drops Unicode spaces). */
function trimSpaces(text: string, start: number, end: number): string {
  while (start < end && (text.charCodeAt(start) === 32 || text.charCodeAt(start) === 9)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 32 || text.charCodeAt(end - 1) === 9)) end--;
  return text.slice(start, end);
}
