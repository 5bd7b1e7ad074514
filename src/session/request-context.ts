/**
 * From what a server knows about a request (its socket and a few headers) to the
 * {@link RequestContext} the core records. Pure: the adapters of each runtime call it.
 * @module
 */
import { SessionConfigError } from "../errors.js";
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

/**
 * How many proxies in front of the server to believe: `true` is one (the usual load
 * balancer or reverse proxy), a number that many, `false` or 0 none.
 *
 * @example
 * ```ts
 * createSessions({ store, trustProxy: 2 }); // a CDN in front of a load balancer
 * ```
 */
export type TrustProxy = boolean | number;

/**
 * Returns `value` if it is a {@link TrustProxy} (a boolean, or a whole number of hops from
 * 0 to 32), else throws `SessionConfigError` naming `option`.
 */
export function checkTrustProxy(value: unknown, option: string): TrustProxy {
  if (typeof value === "boolean" || (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 32))
    return value as TrustProxy;
  throw new SessionConfigError(option, "must be true, false or the number of proxies in front (0 to 32)");
}

/** The number of trusted hops a {@link TrustProxy} stands for. */
export function trustedHops(trust: TrustProxy | null | undefined): number {
  return trust === true ? 1 : typeof trust === "number" ? trust : 0;
}

/** Every comma-separated entry of a header (all its lines), trimmed, empty ones dropped. */
function entries(value: string | readonly string[] | null | undefined): string[] {
  if (value === null || value === undefined) return [];
  const lines = typeof value === "string" ? [value] : value;
  const out: string[] = [];
  for (const line of lines) {
    for (const part of line.split(",")) {
      const entry = part.trim();
      if (entry.length > 0) out.push(entry);
    }
  }
  return out;
}

/**
 * The entry a header's list holds for the client as the outermost of `hops` trusted
 * proxies saw it: proxies append, so it is the `hops`-th from the right (the left-most when
 * the list is shorter). The entries left of it are whatever the client sent: never believed.
 */
function trustedEntry(value: string | readonly string[] | null | undefined, hops: number): string | null {
  const list = entries(value);
  if (list.length === 0) return null;
  return list[Math.max(0, list.length - hops)]!;
}

/**
 * The request context of a request: `secure` is true over TLS or, behind `trustProxy`
 * trusted proxies, when the `X-Forwarded-Proto` entry the outermost of them added is
 * `https`; `ip` is the `X-Forwarded-For` entry that proxy added (the right-most one for a
 * single proxy, as `proxy-addr` picks it), else the peer address. Never throws.
 *
 * @example
 * ```ts
 * contextOf({ tls: false, remoteAddress: "10.0.0.2", forwardedProto: "https", forwardedFor: "6.6.6.6, 203.0.113.9", userAgent: "curl" }, true);
 * // { secure: true, ip: "203.0.113.9", userAgent: "curl" }: "6.6.6.6" is what the client claimed
 * ```
 */
export function contextOf(facts: RequestFacts, trustProxy: TrustProxy): RequestContext {
  const hops = trustedHops(trustProxy);
  const forwardedHttps = hops > 0 && trustedEntry(facts.forwardedProto, hops)?.toLowerCase() === "https";
  const ip = (hops > 0 ? trustedEntry(facts.forwardedFor, hops) : null) ?? facts.remoteAddress ?? null;
  const userAgent = typeof facts.userAgent === "string" ? facts.userAgent : (facts.userAgent?.[0] ?? null);
  return { secure: facts.tls || forwardedHttps, ip, userAgent };
}
