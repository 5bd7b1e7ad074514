/**
 * The writeHead fast path (src/adapters/node/writehead-fast-path.ts) leans on how node:http
 * implements writeHead. The first suite checks node itself, with no pgsession: if one of
 * these fails after a Node upgrade, the fast path's premise changed underneath it. The
 * second checks that pgsession takes the path only where it applies, bytes on the wire alike.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { putIntoWriteHeadHeaders } from "../../src/adapters/node/writehead-fast-path.js";
import type { SessionData } from "../../src/session/session.js";
import { hasPostgres } from "../support/db.js";
import { listen } from "./client.js";
import { suiteSessions } from "./contract.js";

/** The status line and header lines of one GET, read off the socket as node wrote them. */
async function rawHead(base: string, path: string): Promise<{ status: string; headers: Array<[string, string]> }> {
  const { hostname, port } = new URL(base);
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`),
    );
    let data = "";
    socket
      .setEncoding("latin1")
      .on("data", (chunk: string) => (data += chunk))
      .on("end", () => resolve(data))
      .on("error", reject);
  });
  const [status = "", ...lines] = text.slice(0, text.indexOf("\r\n\r\n")).split("\r\n");
  return {
    status,
    headers: lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]),
  };
}

const valuesOf = (headers: Array<[string, string]>, name: string) => headers.filter(([n]) => n === name).map(([, v]) => v);

/** The shapes of writeHead the fast path meets; each writes a Set-Cookie and `x-kind` through writeHead. */
const SHAPES: Record<string, (res: ServerResponse, headers: OutgoingHttpHeaders) => void> = {
  "/plain": (res, headers) => res.writeHead(200, headers),
  "/message": (res, headers) => res.writeHead(201, "Made", headers),
  "/bare": (res, headers) => res.writeHead(200, Object.assign(Object.create(null) as OutgoingHttpHeaders, headers)),
  "/set-before": (res, headers) => {
    res.setHeader("x-before", "yes");
    res.writeHead(200, headers);
  },
};

describe("node:http's writeHead, as the fast path expects it", () => {
  it("sends a Set-Cookie of writeHead's header object with the other headers, in every shape", async () => {
    const namesAfter: Record<string, string[]> = {};
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? "";
      // Alone: no setHeader at all (even one removed again leaves node merging).
      if (!path.endsWith("?alone")) res.setHeader("x-early", "set");
      SHAPES[path.replace("?alone", "")]!(res, { "content-type": "text/plain", "x-kind": path, "set-cookie": "session=abc; Path=/" });
      namesAfter[path] = res.getHeaderNames();
      res.end("ok");
    });
    const { base, close } = await listen(server);
    try {
      for (const shape of Object.keys(SHAPES)) {
        for (const path of [shape, `${shape}?alone`]) {
          const { status, headers } = await rawHead(base, path);
          expect(status, path).toBe(shape === "/message" ? "HTTP/1.1 201 Made" : "HTTP/1.1 200 OK");
          expect(valuesOf(headers, "set-cookie"), path).toEqual(["session=abc; Path=/"]);
          expect(valuesOf(headers, "x-kind"), path).toEqual([path]);
          expect(valuesOf(headers, "x-early"), path).toEqual(path.endsWith("?alone") ? [] : ["set"]);
          if (shape === "/set-before") expect(valuesOf(headers, "x-before"), path).toEqual(["yes"]);
        }
      }
      // The fast path's reason to exist: with nothing set by setHeader, node sends writeHead's
      // object as it is rather than merging it into the response's own header map.
      expect(namesAfter["/plain?alone"]).toEqual([]);
      expect(namesAfter["/message?alone"]).toEqual([]);
      expect(namesAfter["/plain"]).toEqual(expect.arrayContaining(["x-early", "set-cookie", "x-kind"]));
    } finally {
      await close();
    }
  });

  it("sends a Set-Cookie set with setHeader beside writeHead's plain header object", async () => {
    const server = createServer((_req, res) => {
      res.setHeader("Set-Cookie", "session=abc; Path=/");
      res.writeHead(200, { "content-type": "text/plain", "x-kind": "plain" }).end("ok");
    });
    const { base, close } = await listen(server);
    try {
      const { headers } = await rawHead(base, "/");
      expect(valuesOf(headers, "set-cookie")).toEqual(["session=abc; Path=/"]);
      expect(valuesOf(headers, "x-kind")).toEqual(["plain"]);
    } finally {
      await close();
    }
  });
});

describe("putIntoWriteHeadHeaders", () => {
  const response = (names: string[] = []) => ({ getHeaderNames: () => names }) as unknown as ServerResponse;

  it("puts the cookie into a copy of a plain header object, after a status message too", () => {
    const app = { "content-type": "text/plain" };
    for (const rest of [[app], ["Made", app]]) {
      expect(putIntoWriteHeadHeaders(response(), rest, "session=abc", false)).toBe(true);
      expect(rest.at(-1)).toEqual({ "content-type": "text/plain", "set-cookie": "session=abc" });
    }
    expect(app).toEqual({ "content-type": "text/plain" });
  });

  it("with noStore, adds Cache-Control: no-store unless the app's keeps the response out of shared caches", () => {
    const cases: Array<[Record<string, string>, Record<string, string>]> = [
      [{}, { "cache-control": "no-store" }],
      [{ "Cache-Control": "public, max-age=60" }, { "Cache-Control": "no-store" }],
      [{ "cache-control": "private, max-age=60" }, { "cache-control": "private, max-age=60" }],
      [{ "CACHE-CONTROL": "No-Store" }, { "CACHE-CONTROL": "No-Store" }],
    ];
    for (const [app, expected] of cases) {
      const rest: unknown[] = [{ ...app }];
      expect(putIntoWriteHeadHeaders(response(), rest, "session=abc", true)).toBe(true);
      expect(rest[0]).toEqual({ ...expected, "set-cookie": "session=abc" });
    }
  });

  it("leaves every other shape to the ordinary append", () => {
    const bare = Object.assign(Object.create(null) as object, { "content-type": "text/plain" });
    const cases: Array<[ServerResponse, unknown[]]> = [
      [response(), []],
      [response(), [bare]],
      [response(), [["content-type", "text/plain"]]],
      [response(), [{ "Set-Cookie": "mine=1" }]],
      [response(["x-before"]), [{ "content-type": "text/plain" }]],
    ];
    for (const [res, rest] of cases) {
      const before = [...rest];
      expect(putIntoWriteHeadHeaders(res, rest, "session=abc", true)).toBe(false);
      expect(rest).toEqual(before);
    }
  });
});

describe.skipIf(!hasPostgres)("pgsession's commit on each writeHead shape", () => {
  const suite = suiteSessions<SessionData>("writehead_path", (schema, store) => ({ store, schema }));

  it("sends its one Set-Cookie with the app's headers, through writeHead's object only where it is plain and alone", async () => {
    const mapAtFinish: Record<string, string[]> = {};
    const server = createServer(
      withSession(suite.sessions, (req, res, session) => {
        const path = req.url ?? "";
        session.set("x", 1);
        res.on("finish", () => (mapAtFinish[path] = res.getHeaderNames()));
        SHAPES[path]!(res, { "content-type": "text/plain", "x-kind": path });
        res.end("ok");
      }),
    );
    const { base, close } = await listen(server);
    try {
      for (const path of Object.keys(SHAPES)) {
        const { status, headers } = await rawHead(base, path);
        expect(status, path).toBe(path === "/message" ? "HTTP/1.1 201 Made" : "HTTP/1.1 200 OK");
        expect(
          valuesOf(headers, "set-cookie").map((line) => line.split("=", 1)[0]),
          path,
        ).toEqual(["session"]);
        expect(valuesOf(headers, "x-kind"), path).toEqual([path]);
        if (path === "/set-before") expect(valuesOf(headers, "x-before")).toEqual(["yes"]);
      }
      // Through writeHead's object: nothing was put in the response's header map.
      expect(mapAtFinish["/plain"]).toEqual([]);
      expect(mapAtFinish["/message"]).toEqual([]);
      expect(mapAtFinish["/bare"]).toContain("set-cookie");
      expect(mapAtFinish["/set-before"]).toContain("set-cookie");
    } finally {
      await close();
    }
  });
});
