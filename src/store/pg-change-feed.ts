/**
 * The read cache's change feed on PostgreSQL: LISTEN on the table's channel, on a dedicated
 * node-postgres connection (a transaction-mode pooler cannot LISTEN, so it is configured
 * apart from the store). A heartbeat proves the subscription alive and the table's triggers
 * in place; a lost connection, a heartbeat that does not come back, or a missing trigger
 * is reported at once, and the connection is made again with backoff.
 * @module
 */
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
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * The heartbeat: the database's clock (for the cache's expiry checks), and whether the three
 * triggers of `sql/cache.sql` are there and fire for every writer.
 */
const HEARTBEAT = `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms,
       (SELECT count(*) FROM pg_catalog.pg_trigger t
         WHERE t.tgrelid = pg_catalog.to_regclass($1) AND t.tgname = ANY ($2::name[]) AND t.tgenabled = 'A')::integer AS armed`;

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
  readonly #triggers: string[];
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
    this.#beat(client);
    this.#beatTimer = setInterval(() => this.#beat(client), this.#options.heartbeatMs).unref();
  }

  /** Sends a heartbeat, unless one is on its way; one unanswered for two periods ends the connection. */
  #beat(client: pg.Client): void {
    const sentAt = Date.now();
    if (this.#beatSentAt !== null) {
      if (sentAt - this.#beatSentAt >= 2 * this.#options.heartbeatMs) this.#drop(client, "the listen connection stopped answering");
      return;
    }
    this.#beatSentAt = sentAt;
    client.query<{ now_ms: number; armed: number }>(HEARTBEAT, [this.#table, this.#triggers]).then(
      (result) => {
        if (client !== this.#client) return;
        this.#beatSentAt = null;
        const row = result.rows[0] as { now_ms: number; armed: number };
        if (row.armed !== this.#triggers.length) {
          this.#lose("the table has no change triggers (run migrate() with the cache option, or pgsession migrate --cache)");
          return;
        }
        const receivedAt = Date.now();
        this.#retries = 0;
        if (this.#warned) {
          this.#warned = false;
          this.#options.warn(`pgsession: the read cache of ${this.#table} is active again`);
        }
        this.#listener?.alive({
          verifiedAt: sentAt,
          until: sentAt + 2 * this.#options.heartbeatMs,
          clockOffsetMs: row.now_ms - (sentAt + receivedAt) / 2,
        });
      },
      (err: Error) => this.#drop(client, `the heartbeat failed (${err.message})`),
    );
  }

  #report(payload: string): void {
    const change = parseChange(payload);
    // Anything else on the channel (a NOTIFY by hand) may mean anything: forget everything.
    if (change === "all" || change === null) this.#listener?.flushed();
    else this.#listener?.changed(change);
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
    if (this.#beatTimer) clearInterval(this.#beatTimer);
    this.#beatTimer = null;
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#lose(`${reason}; reconnecting`);
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#retries++) * (0.8 + 0.4 * Math.random());
    this.#retryTimer = setTimeout(() => void this.#connect(), delay).unref();
  }
}
