/**
 * From what a server knows about a request (its socket and a few headers) to the
 * {@link RequestContext} the core records. Pure: the adapters of each runtime call it.
 * @module
 */
import type { RequestContext } from "./session.js";

/** What an adapter reads off a request. Header values as the runtime gives them. */
export interface RequestFacts {
  /** The connection itself is TLS (or the URL is `https:`). */
  tls: boolean;
  /** The peer address of the connection, if known. */
  remoteAddress: string | null | undefined;
  /** `X-Forwarded-Proto`, only believed with `trustProxy`. */
  forwardedProto: string | readonly string[] | null | undefined;
  /** `X-Forwarded-For`, only believed with `trustProxy`. */
  forwardedFor: string | readonly string[] | null | undefined;
  /** `User-Agent`. */
  userAgent: string | readonly string[] | null | undefined;
}

function first(value: string | readonly string[] | null | undefined): string | null {
  const text = typeof value === "string" ? value : value?.[0];
  if (typeof text !== "string") return null;
  const head = text.split(",", 1)[0]?.trim() ?? "";
  return head.length > 0 ? head : null;
}

/**
 * The request context of a request: `secure` is true over TLS or, with `trustProxy`, when
 * the proxy's first `X-Forwarded-Proto` is `https`; `ip` is the proxy's first
 * `X-Forwarded-For` entry when trusted, else the peer address. Never throws.
 *
 * @example
 * ```ts
 * contextOf({ tls: false, remoteAddress: "10.0.0.2", forwardedProto: "https", forwardedFor: "203.0.113.9", userAgent: "curl" }, true);
 * // { secure: true, ip: "203.0.113.9", userAgent: "curl" }
 * ```
 */
export function contextOf(facts: RequestFacts, trustProxy: boolean): RequestContext {
  const forwardedHttps = trustProxy && first(facts.forwardedProto)?.toLowerCase() === "https";
  const ip = (trustProxy ? first(facts.forwardedFor) : null) ?? facts.remoteAddress ?? null;
  const userAgent = typeof facts.userAgent === "string" ? facts.userAgent : (facts.userAgent?.[0] ?? null);
  return { secure: facts.tls || forwardedHttps, ip, userAgent };
}
