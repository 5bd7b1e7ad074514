/**
 * node:http specifics: the commit happens before the headers go out, other Set-Cookie
 * headers survive, and a failed write never answers 2xx.
 */
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { createSessionMiddleware, withSession } from "../../src/adapters/node.js";
import type { Session, SessionData } from "../../src/session/session.js";
import { hasPostgres } from "../support/db.js";
import { listen, parseSetCookie } from "./client.js";
import { suiteSessions } from "./contract.js";

describe.skipIf(!hasPostgres)("pgsession/node commit before headers", () => {
  const suite = suiteSessions<SessionData>("node_commit", (schema, store) => ({ store, schema }));
  const count = async () => (await suite.pool.query(`SELECT count(*)::int AS n FROM ${suite.schema}.sessions`)).rows[0].n as number;

  it("stores the session before the client sees the headers, even for a streamed response", async () => {
    let finish!: () => void;
    const release = new Promise<void>((resolve) => (finish = resolve));
    const server = createServer(
      withSession(suite.sessions, async (_req, res, session) => {
        session.set("streamed", true);
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first chunk\n");
        await release;
        res.end("done\n");
      }),
    );
    const { base, close } = await listen(server);
    try {
      const before = await count();
      const res = await fetch(base + "/");
      // Headers are here while the body is still held open by the handler.
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toHaveLength(1);
      expect(await count()).toBe(before + 1);
      finish();
      expect(await res.text()).toBe("first chunk\ndone\n");
    } finally {
      finish();
      await close();
    }
  });

  it("appends its cookie to the app's Set-Cookie headers (setHeader and writeHead alike)", async () => {
    const server = createServer(
      withSession(suite.sessions, (_req, res, session) => {
        session.set("x", 1);
        res.setHeader("Set-Cookie", ["a=1; Path=/", "b=2; Path=/"]);
        res.writeHead(200, { "Set-Cookie": "c=3; Path=/", "content-type": "text/plain" });
        res.end("ok");
      }),
    );
    const { base, close } = await listen(server);
    try {
      const res = await fetch(base + "/");
      const names = res.headers.getSetCookie().map((line) => parseSetCookie(line).name);
      expect(names.sort()).toEqual(["a", "b", "c", "session"]);
    } finally {
      await close();
    }
  });

  it("puts its cookie beside the headers of the app's writeHead, leaving the app's object as it was", async () => {
    const given: Record<string, object> = {};
    const server = createServer(
      withSession(suite.sessions, (req, res, session) => {
        session.set("x", 1);
        const headers: Record<string, string> =
          req.url === "/bare"
            ? Object.assign(Object.create(null) as Record<string, string>, { "content-type": "text/plain", "x-kind": "bare" })
            : { "content-type": "text/plain", "x-kind": req.url ?? "" };
        given[req.url ?? ""] = headers;
        if (req.url === "/message") res.writeHead(201, "Made", headers).end("ok");
        else if (req.url === "/set-before") {
          res.setHeader("x-before", "yes");
          res.writeHead(200, headers).end("ok");
        } else res.writeHead(200, headers).end("ok");
      }),
    );
    const { base, close } = await listen(server);
    try {
      for (const path of ["/plain", "/message", "/bare", "/set-before"]) {
        const res = await fetch(base + path);
        expect(res.status, path).toBe(path === "/message" ? 201 : 200);
        if (path === "/message") expect(res.statusText).toBe("Made");
        expect(
          res.headers.getSetCookie().map((line) => parseSetCookie(line).name),
          path,
        ).toEqual(["session"]);
        expect(res.headers.get("content-type"), path).toBe("text/plain");
        expect(res.headers.get("x-kind"), path).toBe(path === "/bare" ? "bare" : path);
        if (path === "/set-before") expect(res.headers.get("x-before")).toBe("yes");
        expect(Object.keys(given[path]!).sort(), path).toEqual(["content-type", "x-kind"]);
        expect(await res.text()).toBe("ok");
      }
    } finally {
      await close();
    }
  });

  it("keeps both cookies when writeHead names Set-Cookie in a flat list or after a status message", async () => {
    const server = createServer(
      withSession(suite.sessions, (req, res, session) => {
        session.set("x", 1);
        if (req.url === "/flat") res.writeHead(200, ["Set-Cookie", "c=3; Path=/", "Content-Type", "text/plain"]);
        else res.writeHead(201, "Made", { "set-cookie": ["d=4; Path=/"], "x-kind": "message" });
        res.end("ok");
      }),
    );
    const { base, close } = await listen(server);
    try {
      const flat = await fetch(base + "/flat");
      expect(
        flat.headers
          .getSetCookie()
          .map((line) => parseSetCookie(line).name)
          .sort(),
      ).toEqual(["c", "session"]);
      expect(flat.headers.get("content-type")).toBe("text/plain");
      const message = await fetch(base + "/message");
      expect([message.status, message.statusText, message.headers.get("x-kind")]).toEqual([201, "Made", "message"]);
      expect(
        message.headers
          .getSetCookie()
          .map((line) => parseSetCookie(line).name)
          .sort(),
      ).toEqual(["d", "session"]);
    } finally {
      await close();
    }
  });

  it("passes writeHead's other headers through with the held response, merged with those set before", async () => {
    const server = createServer(
      withSession(suite.sessions, (_req, res, session) => {
        session.set("x", 1);
        res.setHeader("x-before", "kept");
        res.setHeader("x-replaced", "old");
        res.writeHead(200, "Fine", { "x-replaced": "new", "content-type": "text/plain" });
        res.end("ok");
      }),
    );
    const { base, close } = await listen(server);
    try {
      const res = await fetch(base + "/");
      expect([res.status, res.statusText]).toEqual([200, "Fine"]);
      // As node:http merges them: writeHead's value wins, headers set before stay.
      expect([res.headers.get("x-before"), res.headers.get("x-replaced"), res.headers.get("content-type")]).toEqual([
        "kept",
        "new",
        "text/plain",
      ]);
      expect(res.headers.getSetCookie().map((line) => parseSetCookie(line).name)).toEqual(["session"]);
    } finally {
      await close();
    }
  });

  it("answers 500 when the handler throws before responding, and leaves the process running", async () => {
    const server = createServer(
      withSession(
        suite.sessions,
        () => {
          throw new Error("on purpose");
        },
        {
          onError: (_err, _req, res) => {
            res.statusCode = 500;
            res.end("custom");
          },
        },
      ),
    );
    const { base, close } = await listen(server);
    try {
      const res = await fetch(base + "/");
      expect(res.status).toBe(500);
      expect(await res.text()).toBe("custom");
    } finally {
      await close();
    }
  });

  it("tells the app its held response has started, and cuts a response whose handler failed midway", async () => {
    let seen: boolean[] = [];
    const server = createServer(
      withSession(suite.sessions, async (_req, res, session) => {
        session.set("midway", true);
        seen = [res.headersSent];
        res.write("partial");
        seen.push(res.headersSent);
        throw new Error("failed midway, on purpose");
      }),
    );
    const { base, close } = await listen(server);
    try {
      // Never a complete-looking response: the connection is cut (before or after the headers).
      const outcome = await fetch(base + "/")
        .then((res) => res.text())
        .then(
          () => "complete",
          () => "cut",
        );
      expect(outcome).toBe("cut");
      expect(seen).toEqual([false, true]);
    } finally {
      await close();
    }
  });

  it("works as a connect-style middleware, committing at the first output", async () => {
    const middleware = createSessionMiddleware(suite.sessions);
    const server = createServer((req, res) => {
      const request = req as typeof req & { session?: Session };
      void middleware(request, res, () => {
        setTimeout(() => {
          request.session?.set("later", true);
          res.end("ok");
        }, 20);
      });
    });
    const { base, close } = await listen(server);
    try {
      const res = await fetch(base + "/");
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toHaveLength(1);
    } finally {
      await close();
    }
  });
});
