/**
 * Starts the demo's HTTP server: node:http with pgsession's `pgsession/node` adapter.
 * @module
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { withSession } from "../../adapters/node.js";
import type { Sessions } from "../../manager/manager.js";
import { createDemoHandler, type DemoData } from "./app.js";

/** A running demo server. */
export interface DemoServer {
  /** Where it listens, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  /** Stops accepting connections and ends open ones. */
  close(): Promise<void>;
}

/**
 * Serves the demo app on `host:port` (port 0: any free port).
 *
 * @example
 * ```ts
 * const server = await startDemoServer({ sessions, host: "127.0.0.1", port: 0, database: "PGlite" });
 * console.log(server.url);
 * ```
 */
export async function startDemoServer(options: {
  sessions: Sessions<DemoData>;
  host: string;
  port: number;
  database: string;
}): Promise<DemoServer> {
  const handler = createDemoHandler({ sessions: options.sessions, database: options.database });
  const server: Server = createServer(withSession(options.sessions, handler));
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
