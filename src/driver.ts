/**
 * The tiny interface every database client is wrapped into. All SQL is written once, in
 * `src/store/`, on top of it; each driver file adapts one client in a few lines.
 * @module
 */

/** A row as the client returns it. */
export type Row = Record<string, unknown>;

/** A SQL statement with a stable name, so that clients that can prepare it do so once per connection. */
export interface Statement {
  /** Unique for this exact text (the text's hash is part of it). */
  readonly name: string;
  /** SQL with `$1..$n` placeholders. */
  readonly text: string;
}

/** Something that runs statements: the driver itself, or a transaction of it. */
export interface Queryable {
  /** Runs one statement with parameters and returns its rows. */
  query<R extends Row = Row>(statement: Statement, params: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * A database client as pgsession uses it: `pgStore(pool)`, `postgresStore(sql)` and
 * `pgliteStore(db)` each return one.
 *
 * @example
 * ```ts
 * const driver: StoreDriver = pgStore(pool);
 * await driver.transaction(async (tx) => tx.query({ name: "one", text: "SELECT 1" }, []));
 * ```
 */
export interface StoreDriver extends Queryable {
  /** Which client this wraps: `"pg"`, `"postgres"` or `"pglite"`. */
  readonly kind: string;
  /** Runs `fn` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Releases what the driver created itself; a client passed in by the caller stays open. */
  close(): Promise<void>;
  /**
   * The node-postgres `Client` config of the driver's database, when the driver knows it
   * (`pgStore`): what the read cache's LISTEN connection is made from unless `cache.listen` says.
   */
  readonly clientConfig?: () => object;
  /**
   * True when the driver sends every statement unnamed (behind a transaction-mode pooler):
   * the store then reads through a SQL function, whose plan the server caches per connection.
   */
  readonly unnamedStatements?: boolean;
}
