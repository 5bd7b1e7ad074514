/**
 * Internal: what pgsession reads of a node:http request (`IncomingMessage`), for the
 * node:http, Express and Fastify adapters.
 * @module
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { contextOf, type TrustProxy } from "../../session/request-context.js";
import type { RequestContext } from "../../session/session.js";

/** The cookie header and context of a node request. */
export function readNodeRequest(
  req: IncomingMessage,
  trustProxy: TrustProxy,
): { cookieHeader: string | undefined; context: RequestContext } {
  // Each read once: on Express's requests (a prototype of their own each) every property
  // lookup misses V8's caches.
  const headers = req.headers;
  const socket = req.socket as TLSSocket | undefined;
  const context = contextOf(
    {
      tls: socket?.encrypted === true,
      remoteAddress: socket?.remoteAddress,
      forwardedProto: headers["x-forwarded-proto"],
      forwardedFor: headers["x-forwarded-for"],
      userAgent: headers["user-agent"],
    },
    trustProxy,
  );
  return { cookieHeader: headers.cookie, context };
}
