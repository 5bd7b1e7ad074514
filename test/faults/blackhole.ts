/**
 * A TCP endpoint on 127.0.0.1 that can turn into a black hole: in "forward" mode it relays
 * to a real PostgreSQL server; in "blackhole" mode it accepts connections and never answers,
 * and stops relaying on the connections it already holds (a network partition without a
 * reset). Back in "forward" mode, the held connections are reset and new ones relay again.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export type Mode = "forward" | "blackhole";

export interface BlackHole {
  port: number;
  readonly accepted: number;
  setMode(mode: Mode): void;
  close(): Promise<void>;
}

/** Starts the endpoint; `target` is where "forward" relays (null: a black hole for good). */
export async function startBlackHole(target: { host: string; port: number } | null, mode: Mode = "blackhole"): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    accepted++;
    track(client);
    if (mode === "blackhole" || target === null) return; // accepted, never answered
    const upstream = connect(target.port, target.host);
    track(upstream);
    const relay = (from: Socket, to: Socket) => from.on("data", (chunk) => {
      if (mode === "forward") to.write(chunk);
    });
    relay(client, upstream);
    relay(upstream, client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("black hole: no port");
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    setMode(next) {
      // Connections that went silent are reset when the partition heals.
      if (mode === "blackhole" && next === "forward") for (const socket of sockets) socket.destroy();
      mode = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
