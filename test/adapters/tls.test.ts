/**
 * `cookie.secure: "auto"` over a real TLS connection: an https server (a throwaway
 * self-signed certificate made with the openssl CLI) gets Secure cookies, including the
 * `__Host-` prefix; the same app over plain http gets none, and a client cannot claim
 * https with X-Forwarded-Proto unless the proxy is trusted.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSession } from "../../src/adapters/node.js";
import { createSessions, type Sessions } from "../../src/index.js";
import { pgliteStore } from "../../src/store/pglite.js";
import { parseSetCookie } from "./client.js";

interface Answer {
  status: number;
  setCookies: string[];
  body: string;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** One https request that trusts exactly the test's certificate. */
function getTls(port: number, path: string, ca: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", port, path, method: "POST", ca, servername: "localhost", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, setCookies: res.headers["set-cookie"] ?? [], body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function getPlain(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers });
  return { status: res.status, setCookies: res.headers.getSetCookie(), body: await res.text() };
}

describe("Secure cookies over real TLS (cookie.secure: auto)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pgsession-tls-"));
  let key: Buffer;
  let cert: Buffer;
  // One embedded database for the suite; each app gets a schema of its own.
  const db = new PGlite();
  let apps = 0;

  beforeAll(() => {
    // A certificate for localhost only, valid one day, never written outside the temp dir.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    key = readFileSync(join(dir, "key.pem"));
    cert = readFileSync(join(dir, "cert.pem"));
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serveBoth(cookieName: string, trustProxy = false) {
    const sessions: Sessions<{ visits: number }> = createSessions({
      store: pgliteStore(db),
      schema: `tls_${++apps}`,
      cookie: { name: cookieName },
      trustProxy,
    });
    await sessions.migrate();
    const handler = withSession(sessions, (_req, res, session) => {
      session.set("visits", (session.get("visits") ?? 0) + 1);
      res.end(String(session.get("visits")));
    });
    const tls = createHttpsServer({ key, cert }, handler) as unknown as Server;
    const plain = createHttpServer(handler);
    return { tls, plain, tlsPort: await listen(tls), plainPort: await listen(plain) };
  }

  it("marks the cookie Secure on https and not on http", async () => {
    const { tls, plain, tlsPort, plainPort } = await serveBoth("sid");
    try {
      const overTls = await getTls(tlsPort, "/", cert);
      expect(overTls.status).toBe(200);
      expect(overTls.setCookies).toHaveLength(1);
      expect(parseSetCookie(overTls.setCookies[0] as string)).toHaveProperty("secure");
      // The Secure cookie works on the next https request: the same session counts on.
      const token = parseSetCookie(overTls.setCookies[0] as string).value as string;
      expect((await getTls(tlsPort, "/", cert, { cookie: `sid=${token}` })).body).toBe("2");

      const overHttp = await getPlain(plainPort, "/");
      expect(overHttp.setCookies).toHaveLength(1);
      expect(parseSetCookie(overHttp.setCookies[0] as string)).not.toHaveProperty("secure");
      // An untrusted X-Forwarded-Proto does not make plain http look secure.
      const claimed = await getPlain(plainPort, "/", { "x-forwarded-proto": "https" });
      expect(parseSetCookie(claimed.setCookies[0] as string)).not.toHaveProperty("secure");
    } finally {
      await close(tls);
      await close(plain);
    }
  });

  it("serves a __Host- cookie over https: Secure, Path=/, no Domain", async () => {
    const { tls, plain, tlsPort } = await serveBoth("__Host-sid");
    try {
      const answer = await getTls(tlsPort, "/", cert);
      const cookie = parseSetCookie(answer.setCookies[0] as string);
      expect(cookie.name).toBe("__Host-sid");
      expect(cookie).toHaveProperty("secure");
      expect(cookie.path).toBe("/");
      expect(cookie).not.toHaveProperty("domain");
    } finally {
      await close(tls);
      await close(plain);
    }
  });

  it("believes X-Forwarded-Proto from a trusted proxy", async () => {
    const { tls, plain, plainPort } = await serveBoth("sid", true);
    try {
      const proxied = await getPlain(plainPort, "/", { "x-forwarded-proto": "https" });
      expect(parseSetCookie(proxied.setCookies[0] as string)).toHaveProperty("secure");
    } finally {
      await close(tls);
      await close(plain);
    }
  });
});
