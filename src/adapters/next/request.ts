/**
 * Internal: pgsession on Next.js's request-scoped `cookies()` and `headers()` (for
 * `pgsession/next`): the Cookie header and context of the request being served, and the
 * session cookie written through Next's cookie jar.
 *
 * `next/headers` is imported on first use, not when `pgsession/next` loads: Next is an
 * optional peer, and its route-handler wrapper needs none of it.
 * @module
 */
import { parseSetCookie } from "cookie";
import type { Sessions } from "../../manager/manager.js";
import { countCookie, readCookie } from "../../session/cookie.js";
import { contextOf, type TrustProxy } from "../../session/request-context.js";
import type { RequestContext } from "../../session/session.js";

/** What pgsession uses of the jar `cookies()` gives (Next's `ReadonlyRequestCookies`). */
export interface CookieJar {
  get(name: string): { value: string } | undefined;
  set(cookie: { name: string; value: string } & Record<string, unknown>): unknown;
}

/** What pgsession uses of the headers `headers()` gives. */
interface HeaderList {
  get(name: string): string | null;
}

interface NextHeaders {
  cookies(): Promise<CookieJar>;
  headers(): Promise<HeaderList>;
}

let nextHeaders: Promise<NextHeaders> | undefined;

/** The request being served, as Next's `cookies()` and `headers()` tell it. */
export interface NextRequestView {
  readonly jar: CookieJar;
  readonly cookieHeader: string | null;
  readonly context: RequestContext;
}

/**
 * The Cookie header pgsession reads: the request's own, through which every rule of
 * `readCookie` applies (a duplicated session cookie is no session); or, when the session
 * cookie was set during this request (by a Server Action before the render that reads it,
 * or by the proxy), that cookie as Next's jar holds it, since the browser now holds it too.
 * The jar keeps one value per name, so a duplicated cookie is only ever judged on the header.
 */
function cookieHeaderOf(name: string, jar: CookieJar, header: string | null): string | null {
  const value = jar.get(name)?.value;
  if (value === undefined || countCookie(header, name) > 1 || value === readCookie(header, name)) return header;
  return `${name}=${value}`;
}

/**
 * Reads the request being served through `cookies()` and `headers()` of `next/headers`.
 * Next has no socket to show: the client's address and TLS come from `X-Forwarded-For`
 * and `X-Forwarded-Proto` when `trustProxy` believes them, as for node:http and fetch.
 */
export async function readNextRequest(sessions: Sessions<object>, trustProxy: TrustProxy): Promise<NextRequestView> {
  const next = await (nextHeaders ??= import("next/headers.js") as Promise<NextHeaders>);
  const [jar, headers] = await Promise.all([next.cookies(), next.headers()]);
  const context = contextOf(
    {
      tls: false,
      remoteAddress: null,
      forwardedProto: headers.get("x-forwarded-proto"),
      forwardedFor: headers.get("x-forwarded-for"),
      userAgent: headers.get("user-agent"),
    },
    trustProxy,
  );
  return { jar, cookieHeader: cookieHeaderOf(sessions.options.cookie.name, jar, headers.get("cookie")), context };
}

/**
 * Sets a Set-Cookie value pgsession made through Next's jar, attribute for attribute: Next
 * writes the header itself, and only from a Server Action, a Route Handler or the proxy
 * (elsewhere it throws).
 */
export function setCookieIn(jar: CookieJar, setCookie: string): void {
  const { name, value, ...attributes } = parseSetCookie(setCookie);
  jar.set({ ...attributes, name, value: value ?? "" });
}
