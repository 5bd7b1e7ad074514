/**
 * Internal: what pgsession reads of a fetch `Request`, for the fetch and Hono adapters.
 * @module
 */
import { contextOf, type TrustProxy } from "../../session/request-context.js";
import type { RequestContext } from "../../session/session.js";

/** The cookie header and context of a Request. `ip` comes from the runtime, when it tells. */
export function readFetchRequest(
  request: Request,
  trustProxy: TrustProxy,
  ip?: string | null,
): { cookieHeader: string | null; context: RequestContext } {
  const headers = request.headers;
  const context = contextOf(
    {
      tls: request.url.startsWith("https:"),
      remoteAddress: ip,
      forwardedProto: headers.get("x-forwarded-proto"),
      forwardedFor: headers.get("x-forwarded-for"),
      userAgent: headers.get("user-agent"),
    },
    trustProxy,
  );
  return { cookieHeader: headers.get("cookie"), context };
}
