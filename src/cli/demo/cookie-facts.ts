/**
 * The session cookie's attributes as the demo shows them: each with its value for this
 * request and one sentence on what it does.
 * @module
 */
import type { CookiePolicy } from "../../session/cookie.js";
import { formatDuration } from "../format.js";

/** One attribute, its value here, and why. */
export interface CookieFact {
  name: string;
  value: string;
  why: string;
}

/**
 * Describes the cookie pgsession sends for this request.
 *
 * @example
 * ```ts
 * describeCookie(sessions.options.cookie, { secure: false, remember: true, maxAgeMs: 7_776_000_000 });
 * ```
 */
export function describeCookie(
  policy: CookiePolicy,
  request: { secure: boolean; remember: boolean; maxAgeMs: number | null },
): CookieFact[] {
  const secure = policy.secure === "auto" ? request.secure : policy.secure;
  const facts: CookieFact[] = [
    {
      name: "Name",
      value: policy.name,
      why: policy.name.toLowerCase().startsWith("__host-")
        ? "The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and for Path=/."
        : "The cookie carries a 256-bit random token; the database keeps only its SHA-256, so a leaked table cannot be replayed.",
    },
    {
      name: "HttpOnly",
      value: policy.httpOnly ? "yes" : "no",
      why: policy.httpOnly
        ? "Scripts on the page cannot read the cookie, so an XSS bug cannot steal the session token."
        : "Scripts can read this cookie: turn HttpOnly back on unless you really need that.",
    },
    {
      name: "Secure",
      value: policy.secure === "auto" ? `auto: ${secure ? "yes (HTTPS)" : "no (plain HTTP)"}` : secure ? "yes" : "no",
      why:
        policy.secure === "auto"
          ? "Set on HTTPS requests, so the token never travels unencrypted in production; this demo runs on plain HTTP on localhost."
          : secure
            ? "The browser sends the cookie over HTTPS only."
            : "The cookie also travels over plain HTTP: fine on localhost only.",
    },
    {
      name: "SameSite",
      value: policy.sameSite[0]!.toUpperCase() + policy.sameSite.slice(1),
      why:
        policy.sameSite === "lax"
          ? "Other sites cannot make the browser send it with their POSTs, yet links to this site keep you signed in."
          : policy.sameSite === "strict"
            ? "The cookie is sent only when the request starts on this site, not even when following a link here."
            : "Sent with cross-site requests too (needs Secure): only for embedded or third-party use.",
    },
    { name: "Path", value: policy.path, why: "The cookie is sent to every page under this path." },
    {
      name: "Domain",
      value: policy.domain ?? "(none)",
      why: policy.domain ? `Sent to ${policy.domain} and its subdomains.` : "Host-only: sent to this exact host, never to its subdomains.",
    },
    {
      name: "Max-Age",
      value:
        request.remember && request.maxAgeMs !== null
          ? `${Math.round(request.maxAgeMs / 1000)} s (${formatDuration(request.maxAgeMs)})`
          : "(none)",
      why: request.remember
        ? 'You chose "remember me": the cookie outlives the browser, until the remember-me lifetime ends.'
        : 'A browser-session cookie: it goes away when the browser closes; only "remember me" sessions get a Max-Age.',
    },
  ];
  if (policy.partitioned) facts.push({ name: "Partitioned", value: "yes", why: "Kept in a separate jar per top-level site (CHIPS)." });
  if (policy.priority) facts.push({ name: "Priority", value: policy.priority, why: "Tells Chromium which cookies to evict last." });
  return facts;
}
