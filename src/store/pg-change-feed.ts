/**
 * The read cache's change feed on PostgreSQL: LISTEN on the table's channel, on a dedicated
 * node-postgres connection (a transaction-mode pooler cannot LISTEN, so it is configured
 * apart from the store). The table's triggers append changes to its change log (migration
 * 005) rather than notifying, since PostgreSQL serializes the commits of transactions that
 * notify; every feed relays the log to the channel every few milliseconds, one NOTIFY per
 * batch, so the changes keep flowing while any caching instance runs, and this one's own
 * relay never waits on another's. A heartbeat goes through the same path: a beat appended
 * to the log must come back on the channel, which proves the relay and the subscription
 * alive and the table's triggers in place. A lost connection, a beat that does not come
 * back, or a missing trigger is reported at once, and the connection is made again with
 * backoff.
 * @module
 */
import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import pg from "pg";
import { quoteIdent } from "../lib/identifier.js";
import type { ChangeFeed, ChangeListener, SessionChange } from "../session/changes.js";
import type { TableName } from "../session/table.js";
import { cacheTriggerNames, changeChannel } from "./schema.js";

/**
 * Where the read cache listens: a connection string or a node-postgres `Client` config.
 *
 * @example
 * ```ts
 * const listen: ListenConnection = "postgres://app@db.internal:5432/app"; // directly, not through pgbouncer
 * ```
 */
export type ListenConnection = string | pg.ClientConfig;

/** Options of {@link pgChangeFeed}. */
export interface PgChangeFeedOptions {
  /** How often the subscription is verified, ms. It is trusted for twice that. */
  heartbeatMs: number;
  /** Where the feed reports that the cache is bypassed, and again active. */
  warn: (message: string) => void;
}

const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How often each feed moves the change log to the channel, what it adds to the revocation
 * window: every 5 ms while there are changes, slowing by 5 ms a move that found none, to
 * 20 ms on a table without writes, so an idle instance sends few statements.
 */
const RELAY_MS = 5;
const IDLE_RELAY_MS = 20;
/** Changes moved by one relay statement at most, and per NOTIFY (whose payload is at most 8,000 bytes; a change is at most 56). */
const RELAY_BATCH = 1_000;
const CHANGES_PER_NOTIFY = 100;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * The heartbeat: a beat appended to the change log (`$3`, which must come back on the
 * channel), the database's clock (for the cache's expiry checks), and whether the three
 * triggers of `sql/cache.sql` are there and fire for every writer.
 */
const heartbeat = (log: string) => `WITH beat AS (INSERT INTO ${log} (payload) VALUES ($3::text) RETURNING seq)
SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms,
       (SELECT count(*) FROM pg_catalog.pg_trigger t
         WHERE t.tgrelid = pg_catalog.to_regclass($1) AND t.tgname = ANY ($2::name[]) AND t.tgenabled = 'A')::integer AS armed,
       (SELECT count(*) FROM beat)::integer AS beats`;

/**
 * The relay: takes the oldest changes of the log (skipping rows another feed is moving),
 * deletes them, and NOTIFYs them in order, comma-separated, a hundred a notification. One
 * row per notification sent.
 */
const relay = (log: string) => `WITH picked AS (SELECT seq FROM ${log} ORDER BY seq LIMIT ${RELAY_BATCH} FOR UPDATE SKIP LOCKED),
  moved AS (DELETE FROM ${log} l USING picked p WHERE l.seq = p.seq RETURNING l.seq, l.payload),
  chunks AS (SELECT min(seq) AS first, string_agg(payload, ',' ORDER BY seq) AS list
               FROM (SELECT seq, payload, (row_number() OVER (ORDER BY seq) - 1) / ${CHANGES_PER_NOTIFY} AS c FROM moved) m GROUP BY c)
SELECT pg_catalog.pg_notify($1, list) FROM (SELECT list FROM chunks ORDER BY first) o`;

/** A change's payload, as `<table>_changed()` in `sql/functions.sql` writes it; null for anything else. */
export function parseChange(payload: string): SessionChange | "all" | null {
  if (payload === "*") return "all";
  const space = payload.indexOf(" ");
  const key = space === -1 ? payload : payload.slice(0, space);
  if (key.length !== 44) return null;
  if (space === -1) return { key, version: null };
  const version = Number(payload.slice(space + 1));
  return Number.isSafeInteger(version) ? { key, version } : null;
}

/** The client config of a listen connection: keep-alive, a connect timeout and a name, unless given. */
function clientConfig(connection: ListenConnection): pg.ClientConfig {
  const given: pg.ClientConfig = typeof connection === "string" ? { connectionString: connection } : connection;
  return {
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: "pgsession cache listener",
    // The listener never keeps the process alive on its own: `sessions.close()` ends it, and
    // a process that is done exits even without.
    stream: () => new Socket().unref(),
    ...given,
  };
}

/**
 * A change feed for the table `names`, listening on `connection`.
 *
 * @example
 * ```ts
 * const feed = pgChangeFeed(process.env.DATABASE_URL!, { schema: "pgsession", table: "sessions" }, { heartbeatMs: 1000, warn: console.warn });
 * ```
 */
export function pgChangeFeed(connection: ListenConnection, names: TableName, options: PgChangeFeedOptions): ChangeFeed {
  return new PgChangeFeed(clientConfig(connection), names, options);
}

class PgChangeFeed implements ChangeFeed {
  readonly #config: pg.ClientConfig;
  readonly #channel: string;
  readonly #table: string;
  readonly #heartbeat: string;
  readonly #relay: string;
  readonly #triggers: string[];
  /** Tells this feed's beats from other instances' on the shared channel. */
  readonly #beatPrefix = `~${randomBytes(6).toString("hex")}.`;
  #beats = 0;
  /** The beat on its way through the log, and what its query said; null when none. */
  #pendingBeat: { payload: string; sentAt: number; clockOffsetMs: number | null } | null = null;
  #relayTimer: NodeJS.Timeout | null = null;
  #relayDelay = RELAY_MS;
  readonly #options: PgChangeFeedOptions;
  #listener: ChangeListener | null = null;
  #client: pg.Client | null = null;
  #closed = false;
  #retries = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #beatTimer: NodeJS.Timeout | null = null;
  /** When the unanswered heartbeat was sent (local ms), or null. */
  #beatSentAt: number | null = null;
  /** Whether the cache was reported bypassed (and said so), so that recovery is said once. */
  #warned = false;

  constructor(config: pg.ClientConfig, names: TableName, options: PgChangeFeedOptions) {
    this.#config = config;
    this.#channel = changeChannel(names);
    this.#table = `${quoteIdent(names.schema)}.${quoteIdent(names.table)}`;
    const log = `${quoteIdent(names.schema)}.${quoteIdent(`${names.table}_cache_log`)}`;
    this.#heartbeat = heartbeat(log);
    this.#relay = relay(log);
    this.#triggers = cacheTriggerNames(names);
    this.#options = options;
  }

  start(listener: ChangeListener): void {
    if (this.#listener) return;
    this.#listener = listener;
    void this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#beatTimer) clearInterval(this.#beatTimer);
    if (this.#relayTimer) clearTimeout(this.#relayTimer);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    this.#retryTimer = null;
    if (this.#closed) return;
    const client = new pg.Client(this.#config);
    this.#client = client;
    client.on("error", (err) => this.#drop(client, `the listen connection failed (${err.message})`));
    client.on("end", () => this.#drop(client, "the listen connection closed"));
    client.on("notification", (message) => {
      if (client === this.#client && message.channel === this.#channel) this.#report(message.payload ?? "");
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.#channel)}`);
    } catch (err) {
      this.#drop(client, `cannot listen (${(err as Error).message})`);
      return;
    }
    if (client !== this.#client) return;
    this.#relayDelay = RELAY_MS;
    this.#relayTimer = setTimeout(() => this.#relayOnce(client), RELAY_MS).unref();
    this.#beat(client);
    this.#beatTimer = setInterval(() => this.#beat(client), this.#options.heartbeatMs).unref();
  }

  /** Moves the change log to the channel, then schedules the next move: at once when the batch was full. */
  #relayOnce(client: pg.Client): void {
    this.#relayTimer = null;
    if (client !== this.#client) return;
    client.query(this.#relay, [this.#channel]).then(
      (result) => {
        if (client !== this.#client || this.#closed) return;
        const sent = result.rowCount ?? 0;
        this.#relayDelay = sent > 0 ? RELAY_MS : Math.min(IDLE_RELAY_MS, this.#relayDelay + RELAY_MS);
        const delay = sent === RELAY_BATCH / CHANGES_PER_NOTIFY ? 0 : this.#relayDelay;
        this.#relayTimer = setTimeout(() => this.#relayOnce(client), delay).unref();
      },
      (err: Error) => this.#drop(client, `relaying the change log failed (${err.message})`),
    );
  }

  /**
   * Sends a heartbeat, unless one is on its way; one that has not come back through the log
   * for two periods ends the connection.
   */
  #beat(client: pg.Client): void {
    const sentAt = Date.now();
    if (this.#beatSentAt !== null) {
      if (sentAt - this.#beatSentAt >= 2 * this.#options.heartbeatMs) this.#drop(client, "the listen connection stopped answering");
      return;
    }
    this.#beatSentAt = sentAt;
    const pending = { payload: `${this.#beatPrefix}${++this.#beats}`, sentAt, clockOffsetMs: null as number | null };
    this.#pendingBeat = pending;
    client.query<{ now_ms: number; armed: number }>(this.#heartbeat, [this.#table, this.#triggers, pending.payload]).then(
      (result) => {
        if (client !== this.#client) return;
        const row = result.rows[0] as { now_ms: number; armed: number };
        if (row.armed !== this.#triggers.length) {
          this.#beatSentAt = null;
          this.#pendingBeat = null;
          this.#lose("the table has no change triggers (run migrate() with the cache option, or pgsession migrate --cache)");
          return;
        }
        pending.clockOffsetMs = row.now_ms - (sentAt + Date.now()) / 2;
        // The relay may have brought the beat back before its own query's answer.
        if (this.#pendingBeat !== pending) this.#verified(pending);
      },
      (err: Error) => this.#drop(client, `the heartbeat failed (${err.message})`),
    );
  }

  /** A beat came back through the log and its query answered: every change committed before it was sent has been reported. */
  #verified(beat: { sentAt: number; clockOffsetMs: number | null }): void {
    if (beat.clockOffsetMs === null) return;
    this.#beatSentAt = null;
    this.#retries = 0;
    if (this.#warned) {
      this.#warned = false;
      this.#options.warn(`pgsession: the read cache of ${this.#table} is active again`);
    }
    this.#listener?.alive({
      verifiedAt: beat.sentAt,
      until: beat.sentAt + 2 * this.#options.heartbeatMs,
      clockOffsetMs: beat.clockOffsetMs,
    });
  }

  #report(payload: string): void {
    for (const part of payload.split(",")) {
      if (part.startsWith("~")) {
        // A beat: this feed's pending one is verified; other instances' mean nothing here.
        const pending = this.#pendingBeat;
        if (pending !== null && part === pending.payload) {
          this.#pendingBeat = null;
          this.#verified(pending);
        }
        continue;
      }
      const change = parseChange(part);
      // Anything else on the channel (a NOTIFY by hand) may mean anything: forget everything.
      if (change === "all" || change === null) this.#listener?.flushed();
      else this.#listener?.changed(change);
    }
  }

  /** Reports the subscription lost, saying so once per outage. */
  #lose(reason: string): void {
    this.#listener?.lost(reason);
    if (!this.#warned && !this.#closed) {
      this.#warned = true;
      this.#options.warn(`pgsession: the read cache of ${this.#table} is bypassed: ${reason}`);
    }
  }

  /** Ends a connection that failed (once), reports it, and connects again after a backoff. */
  #drop(client: pg.Client, reason: string): void {
    if (client !== this.#client) return;
    this.#client = null;
    this.#beatSentAt = null;
    this.#pendingBeat = null;
    if (this.#beatTimer) clearInterval(this.#beatTimer);
    this.#beatTimer = null;
    if (this.#relayTimer) clearTimeout(this.#relayTimer);
    this.#relayTimer = null;
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#lose(`${reason}; reconnecting`);
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#retries++) * (0.8 + 0.4 * Math.random());
    this.#retryTimer = setTimeout(() => void this.#connect(), delay).unref();
  }
}
