/**
 * A one-cookie browser for adapter tests: sends the session cookie it holds, follows
 * Set-Cookie (a Max-Age=0 cookie deletes it), and keeps the raw Set-Cookie values seen.
 */
import type { Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";

/** Sends one request to the app under test and resolves to its response. */
export type Send = (method: string, path: string, headers: Record<string, string>) => Promise<Response>;

export interface Exchange {
  status: number;
  body: any;
  setCookies: string[];
  /** The response's Cache-Control, or null. */
  cacheControl: string | null;
}

export class Browser {
  cookie: string | null = null;
  constructor(
    readonly send: Send,
    readonly name: string,
  ) {}

  async request(method: string, path: string, headers: Record<string, string> = {}): Promise<Exchange> {
    const all = { ...headers, ...(this.cookie !== null && { cookie: `${this.name}=${this.cookie}` }) };
    const res = await this.send(method, path, all);
    const setCookies = res.headers.getSetCookie();
    for (const line of setCookies) {
      const attrs = parseSetCookie(line);
      if (attrs.name !== this.name) continue;
      this.cookie = attrs["max-age"] === "0" ? null : (attrs.value ?? null);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // plain text
    }
    return { status: res.status, body, setCookies, cacheControl: res.headers.get("cache-control") };
  }
}

/** Parses a Set-Cookie line into { name, value, <lower-case attribute>: value | "" }. */
export function parseSetCookie(line: string): Record<string, string> {
  const [pair = "", ...attrs] = line.split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  const out: Record<string, string> = { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
  for (const attr of attrs) {
    const i = attr.indexOf("=");
    if (i === -1) out[attr.toLowerCase()] = "";
    else out[attr.slice(0, i).toLowerCase()] = attr.slice(i + 1);
  }
  return out;
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A Send over real HTTP to `base` (an http://127.0.0.1:port origin). */
export function httpSend(base: string): Send {
  return (method, path, headers) => fetch(base + path, { method, headers, redirect: "manual" });
}

/** Starts a node:http server on a loopback port; resolves to its origin and a closer. */
export async function listen(server: HttpServer): Promise<{ base: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    base: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
