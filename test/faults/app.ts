/**
 * The app the fault suite and the soak serve through the node:http adapter, and the client
 * that drives it. Every client keeps its own account of what the server acknowledged, so
 * that lost writes and silent logouts are counted, not guessed.
 *
 *   POST /login?user=u[&remember=1]  -> { user, id }
 *   GET  /me                         -> { user, id, isNew, writes }  (writes: keys named w*)
 *   POST /write?key=k                -> sets k; { user, id, isNew }
 *   POST /rotate                     -> new token, same session
 *   POST /logout                     -> { ok }
 */
import { createServer } from "node:http";
import { withSession, type NodeSessionOptions } from "../../src/adapters/node.js";
import type { Session } from "../../src/session/session.js";
import type { Sessions } from "../../src/index.js";
import { listen, parseSetCookie } from "../adapters/client.js";

export type Data = Record<string, unknown>;

function who(session: Session<Data>) {
  return { user: session.userId, id: session.id, isNew: session.isNew };
}

async function route(method: string, url: string, session: Session<Data>): Promise<[number, unknown]> {
  const { pathname, searchParams } = new URL(url, "http://localhost");
  switch (`${method} ${pathname}`) {
    case "POST /login":
      await session.login(searchParams.get("user") ?? "anon", { remember: searchParams.get("remember") === "1" });
      return [200, who(session)];
    case "GET /me":
      return [200, { ...who(session), writes: session.keys().filter((key) => key.startsWith("w")).length }];
    case "POST /write":
      session.set(searchParams.get("key") ?? "w", true);
      return [200, who(session)];
    case "POST /rotate":
      await session.rotate();
      return [200, who(session)];
    case "POST /logout":
      await session.logout();
      return [200, { ok: true }];
    default:
      return [404, { error: "not found" }];
  }
}

/** Serves the app on a loopback port. */
export async function serveApp(
  sessions: Sessions<Data>,
  options: NodeSessionOptions = {},
): Promise<{ base: string; close(): Promise<void> }> {
  const server = createServer(
    withSession(
      sessions,
      async (req, res, session) => {
        const [status, body] = await route(req.method ?? "GET", req.url ?? "/", session);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      },
      options,
    ),
  );
  server.keepAliveTimeout = 5_000;
  return listen(server);
}

/** Counts kept by every client, summed over a run. */
export interface Tally {
  requests: number;
  ok: number;
  unavailable: number;
  maxElapsedMs: number;
  /** Elapsed times of the 503 answers (how long a failing request took). */
  maxUnavailableMs: number;
  /** Answers with a 5xx status (503 included). */
  serverErrors: number;
  writesAcked: number;
  /**
   * Rotations answered 503 that were stored all the same: the database went away between
   * their commit and its acknowledgement. Found out by the next rotation (409: the token
   * was already replaced); the client then signs in again, as a user would.
   */
  ambiguousCommits: number;
}

/** Options of a {@link Client}. */
export interface ClientOptions {
  /** A request without an answer after this long is a violation (and aborted). */
  timeoutMs: number;
  /** Keep every token received (for the log check); off in the soak, where they would pile up. */
  keepTokens?: boolean;
  /** Called with every answer's status and elapsed time. */
  onAnswer?: (status: number, elapsedMs: number) => void;
}

function emptyTally(): Tally {
  return { requests: 0, ok: 0, unavailable: 0, maxElapsedMs: 0, maxUnavailableMs: 0, serverErrors: 0, writesAcked: 0, ambiguousCommits: 0 };
}

export const COOKIE = "sid";

/**
 * One browser: a logged-in user writing keys `w<n>` and reading itself back. Every answer
 * is checked as it arrives; anything that breaks a rule is pushed to `violations`.
 */
export class Client {
  cookie: string | null = null;
  id: string | null = null;
  /** Every key the server acknowledged with a 2xx, for the session `id`. */
  readonly acked = new Set<string>();
  /**
   * Writes acknowledged in sessions this client left by signing in again (a login retried
   * after a 503 that was stored all the same starts a new session): they must still be in
   * those sessions.
   */
  readonly earlier = new Map<string, Set<string>>();
  readonly tokens = new Set<string>();
  readonly tally: Tally = emptyTally();
  /** A login was answered 503: it must be retried before anything else (it may have been stored, retiring the old token). */
  loginPending = false;
  /** A rotation was answered 503: it may have been stored all the same. */
  #rotateUncertain = false;
  #next = 0;

  constructor(
    readonly base: string,
    readonly user: string,
    readonly violations: string[],
    readonly options: ClientOptions,
  ) {}

  /** One request; resolves to the status (0 when it failed at the HTTP level) and the parsed body. */
  async send(
    method: string,
    path: string,
    tolerate409 = false,
  ): Promise<{ status: number; body: any; setCookies: string[]; elapsedMs: number }> {
    const started = performance.now();
    this.tally.requests++;
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: this.cookie ? { cookie: `${COOKIE}=${this.cookie}` } : {},
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      this.violations.push(`${this.user} ${method} ${path}: no answer within ${this.options.timeoutMs} ms (${(err as Error).name})`);
      return { status: 0, body: null, setCookies: [], elapsedMs: performance.now() - started };
    }
    const text = await res.text();
    const elapsedMs = performance.now() - started;
    this.tally.maxElapsedMs = Math.max(this.tally.maxElapsedMs, elapsedMs);
    if (res.status >= 500) this.tally.serverErrors++;
    this.options.onAnswer?.(res.status, elapsedMs);
    const setCookies = res.headers.getSetCookie();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    if (res.status === 503) {
      this.tally.unavailable++;
      this.tally.maxUnavailableMs = Math.max(this.tally.maxUnavailableMs, elapsedMs);
      if (setCookies.length > 0) this.violations.push(`${this.user} ${method} ${path}: 503 with Set-Cookie ${setCookies.join(" | ")}`);
    } else if (res.status === 200) {
      this.tally.ok++;
    } else if (res.status === 409 && tolerate409) {
      if (setCookies.length > 0) this.violations.push(`${this.user} ${method} ${path}: 409 with Set-Cookie ${setCookies.join(" | ")}`);
    } else {
      this.violations.push(`${this.user} ${method} ${path}: unexpected status ${res.status}: ${text.slice(0, 200)}`);
    }
    for (const line of setCookies) {
      const cookie = parseSetCookie(line);
      if (cookie.name !== COOKIE || res.status !== 200) continue;
      this.cookie = cookie["max-age"] === "0" ? null : (cookie.value ?? null);
      if (this.cookie && this.options.keepTokens !== false) this.tokens.add(this.cookie);
    }
    return { status: res.status, body, setCookies, elapsedMs };
  }

  /** Logs in; true once the server answered 200 (a 503 leaves the client as it was). */
  async login(remember = false): Promise<boolean> {
    const answer = await this.send("POST", `/login?user=${this.user}${remember ? "&remember=1" : ""}`);
    if (answer.status !== 200) {
      if (answer.status === 503) this.loginPending = true;
      return false;
    }
    this.loginPending = false;
    if (answer.body?.user !== this.user || !this.cookie) {
      this.violations.push(`${this.user} login answered 200 without the user or a cookie`);
      return false;
    }
    if (this.id !== answer.body.id) {
      if (this.id !== null && this.acked.size > 0) this.earlier.set(this.id, new Set(this.acked));
      this.acked.clear();
    }
    this.id = answer.body.id;
    return true;
  }

  /** Checks that a 200 came from this client's own, logged-in session. */
  #checkSelf(what: string, body: any): void {
    if (body?.user !== this.user || body?.id !== this.id || body?.isNew !== false) {
      this.violations.push(`${this.user} ${what}: answered as ${JSON.stringify(body)} instead of its own session ${this.id}`);
    }
  }

  /** Writes one new key; remembered when answered 200. */
  async write(): Promise<number> {
    const key = `w${this.#next++}`;
    const answer = await this.send("POST", `/write?key=${key}`);
    if (answer.status === 200) {
      this.#checkSelf("write", answer.body);
      if (answer.setCookies.length > 0) this.violations.push(`${this.user} write: unexpected Set-Cookie ${answer.setCookies.join(" | ")}`);
      this.acked.add(key);
      this.tally.writesAcked++;
    }
    return answer.status;
  }

  /**
   * Reads itself back. With `exact`, the number of keys must equal what was acknowledged
   * (no fault: every write either answered 200 or never happened).
   */
  async read(exact: boolean): Promise<number> {
    const answer = await this.send("GET", "/me");
    if (answer.status === 200) {
      this.#checkSelf("read", answer.body);
      if (answer.body.writes < this.acked.size || (exact && answer.body.writes !== this.acked.size)) {
        this.violations.push(`${this.user} read: ${answer.body.writes} writes stored, ${this.acked.size} acknowledged`);
      }
    }
    return answer.status;
  }

  /** Rotates the token; the session (and what it acknowledged) stays. */
  async rotate(): Promise<number> {
    const before = this.cookie;
    const uncertain = this.#rotateUncertain;
    // After a rotation answered 503, a 409 proves that rotation was stored: no violation.
    const answer = await this.send("POST", "/rotate", uncertain);
    if (answer.status === 503) this.#rotateUncertain = true;
    if (answer.status === 409) {
      // This token now dies when its grace window ends: sign in again, as a user would.
      this.tally.ambiguousCommits++;
      this.#rotateUncertain = false;
      this.loginPending = true;
    }
    if (answer.status === 200) {
      this.#rotateUncertain = false;
      this.#checkSelf("rotate", answer.body);
      if (this.cookie === before) this.violations.push(`${this.user} rotate: 200 without a new cookie`);
    }
    return answer.status;
  }

  /**
   * Clears up what a 503 left uncertain before the next request: finds out whether a
   * rotation answered 503 was stored after all, and retries a login answered 503. Resolves
   * to true once nothing is uncertain.
   */
  async settle(): Promise<boolean> {
    if (this.#rotateUncertain) await this.rotate();
    if (this.loginPending) await this.login();
    return !this.#rotateUncertain && !this.loginPending;
  }

  /** Logs out; forgets the session. */
  async logout(): Promise<number> {
    const answer = await this.send("POST", "/logout");
    if (answer.status === 200) {
      const cleared = answer.setCookies.some((line) => parseSetCookie(line)["max-age"] === "0");
      if (!cleared) this.violations.push(`${this.user} logout: 200 without a clearing cookie`);
      this.cookie = null;
      this.id = null;
      this.acked.clear();
    }
    return answer.status;
  }
}

/** Sums the tallies of several clients. */
export function sumTallies(clients: readonly Client[]): Tally {
  const total = emptyTally();
  for (const { tally } of clients) {
    total.requests += tally.requests;
    total.ok += tally.ok;
    total.unavailable += tally.unavailable;
    total.serverErrors += tally.serverErrors;
    total.writesAcked += tally.writesAcked;
    total.ambiguousCommits += tally.ambiguousCommits;
    total.maxElapsedMs = Math.max(total.maxElapsedMs, tally.maxElapsedMs);
    total.maxUnavailableMs = Math.max(total.maxUnavailableMs, tally.maxUnavailableMs);
  }
  return total;
}
