/**
 * A TCP endpoint on 127.0.0.1 that can turn into a black hole: in "forward" mode it relays
 * to a real PostgreSQL server; in "blackhole" mode it accepts connections and never answers,
 * and stops relaying on the connections it already holds (a network partition without a
 * reset). Back in "forward" mode, the held connections are reset and new ones relay again.
 * `cutAfter(marker)` loses one answer: the next message to the server that contains
 * `marker` is relayed, and the connection dies before the server's reply reaches the client
 * (a statement the server committed whose acknowledgement never arrived).
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export type Mode = "forward" | "blackhole";

export interface BlackHole {
  port: number;
  readonly accepted: number;
  setMode(mode: Mode): void;
  /** Relays the next client message containing `marker`, then drops the reply and resets that connection. */
  cutAfter(marker: string): void;
  close(): Promise<void>;
}

/** Starts the endpoint; `target` is where "forward" relays (null: a black hole for good). */
export async function startBlackHole(target: { host: string; port: number } | null, mode: Mode = "blackhole"): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let cutMarker: Buffer | null = null;
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
    let cutting = false;
    client.on("data", (chunk: Buffer) => {
      if (mode !== "forward") return;
      if (cutMarker !== null && chunk.includes(cutMarker)) {
        cutMarker = null;
        cutting = true;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (mode !== "forward") return;
      if (!cutting) return void client.write(chunk);
      client.destroy();
      upstream.destroy();
    });
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
    cutAfter(marker) {
      cutMarker = Buffer.from(marker);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
