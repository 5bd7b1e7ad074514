/**
 * Encryption of session data at rest (opt-in: `createSessions({ encrypt: { keys } })`).
 *
 * Scheme: each session has a random 256-bit data key. The data is sealed with
 * AES-256-GCM under that data key; the data key is itself sealed (AES-256-GCM) under a
 * wrapping key derived with HKDF-SHA256 from the session token and a server key. The
 * jsonb `data` column then holds only `{"$sealed": ..., "$key": "<keyId>.<...>"}`: the
 * database alone has neither the token (only its SHA-256) nor the server key, so it can
 * read neither tokens nor data, and the server key alone is useless without a token.
 *
 * The data key never changes for the life of a session. A rotation only re-wraps it under
 * the new token (`$key`) and keeps a copy under the previous token (`$prevKey`) for the
 * grace window, so requests in flight with the old token still read the data.
 * The first server key wraps; every listed key unwraps (rotation of server keys by id).
 * Additional authenticated data binds each blob to the session's public id.
 * @module
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes as nodeRandomBytes } from "node:crypto";
import { SessionConfigError } from "../errors.js";
import type { SessionData } from "./session.js";

/**
 * One server key.
 *
 * @example
 * ```ts
 * const key: EncryptionKey = { id: "2026-11", key: crypto.getRandomValues(new Uint8Array(32)) };
 * ```
 */
export interface EncryptionKey {
  /** Short identifier stored with each wrapped data key: 1 to 32 letters, digits, `_` or `-`. */
  id: string;
  /** At least 32 bytes of secret: bytes, or a base64 / base64url string of them. */
  key: Uint8Array | string;
}

/**
 * The `encrypt` option.
 *
 * @example
 * ```ts
 * createSessions({ store, encrypt: { keys: [{ id: "2026-11", key: process.env.SESSION_KEY! }] } });
 * ```
 */
export interface EncryptionOptions {
  /** Server keys, newest first: the first one wraps new data keys, all of them unwrap. */
  keys: readonly EncryptionKey[];
  /** Called when a stored session cannot be decrypted (wrong key, tampering). Default: console.warn. */
  onWarning?: (message: string) => void;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = Buffer.from("pgsession v1 session data key wrap");

function toKeyBytes(key: unknown, option: string): Buffer {
  let bytes: Buffer;
  if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else if (typeof key === "string") bytes = Buffer.from(key.replaceAll("-", "+").replaceAll("_", "/"), "base64");
  else throw new SessionConfigError(option, "must be bytes or a base64 string");
  if (bytes.length < 32) throw new SessionConfigError(option, `must hold at least 32 bytes of secret, got ${bytes.length}`);
  return bytes;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = nodeRandomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

function open(key: Buffer, blob: unknown, aad: string): Buffer {
  if (typeof blob !== "string") throw new Error("missing ciphertext");
  const bytes = Buffer.from(blob, "base64url");
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error("truncated ciphertext");
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
}

/**
 * What a stored row's `data` column holds when encryption is on.
 *
 * @example
 * ```ts
 * const column: SealedColumn = { $sealed: "q1w2...", $key: "k1.Zx9..." };
 * ```
 */
export interface SealedColumn {
  $sealed?: string;
  $key?: string;
  $prevKey?: string;
}

/**
 * The data of a stored session, decrypted, and its data key (null when it has none yet).
 *
 * @example
 * ```ts
 * const opened: OpenedData | null = cipher.open(record.data, token, record.id, record.current);
 * ```
 */
export interface OpenedData {
  data: SessionData;
  dataKey: Buffer | null;
}

/**
 * Seals and opens session data. Built once by `createSessions` from the `encrypt` option;
 * throws {@link SessionConfigError} on a bad key list.
 *
 * @example
 * ```ts
 * const cipher = new SessionCipher({ keys: [{ id: "k1", key: randomBytes(32) }] });
 * const dataKey = cipher.newDataKey();
 * const column = { $sealed: cipher.sealData(dataKey, id, { a: 1 }), $key: cipher.wrapKey(dataKey, token, id) };
 * cipher.open(column, token, id, true); // { data: { a: 1 }, dataKey }
 * ```
 */
export class SessionCipher {
  readonly #keys: Map<string, Buffer>;
  readonly #primary: string;
  readonly #warn: (message: string) => void;

  constructor(options: EncryptionOptions) {
    if (options === null || typeof options !== "object" || !Array.isArray(options.keys) || options.keys.length === 0) {
      throw new SessionConfigError("encrypt.keys", "expected a non-empty array of { id, key }");
    }
    this.#keys = new Map();
    options.keys.forEach((entry, i) => {
      const id = (entry as EncryptionKey | undefined)?.id;
      if (typeof id !== "string" || !KEY_ID.test(id))
        throw new SessionConfigError(`encrypt.keys[${i}].id`, "must be 1 to 32 letters, digits, _ or -");
      if (this.#keys.has(id)) throw new SessionConfigError(`encrypt.keys[${i}].id`, `${JSON.stringify(id)} is listed twice`);
      this.#keys.set(id, toKeyBytes(entry.key, `encrypt.keys[${i}].key`));
    });
    this.#primary = (options.keys[0] as EncryptionKey).id;
    if (options.onWarning !== undefined && typeof options.onWarning !== "function") {
      throw new SessionConfigError("encrypt.onWarning", "must be a function");
    }
    this.#warn = options.onWarning ?? ((message) => console.warn(message));
  }

  #wrappingKey(keyId: string, token: string): Buffer | null {
    const server = this.#keys.get(keyId);
    if (!server) return null;
    return Buffer.from(hkdfSync("sha256", Buffer.from(token, "utf8"), server, INFO, 32));
  }

  /** A new random data key. */
  newDataKey(): Buffer {
    return nodeRandomBytes(32);
  }

  /** The data key sealed under the token and the first server key: `"<keyId>.<blob>"`. */
  wrapKey(dataKey: Buffer, token: string, publicId: string): string {
    const kek = this.#wrappingKey(this.#primary, token) as Buffer;
    return `${this.#primary}.${seal(kek, dataKey, `pgsession key ${publicId} ${this.#primary}`)}`;
  }

  /** The data sealed under the data key. */
  sealData(dataKey: Buffer, publicId: string, data: SessionData): string {
    return seal(dataKey, Buffer.from(JSON.stringify(data)), `pgsession data ${publicId}`);
  }

  /**
   * Opens a stored row's data with `token` (`current` says whether it is the row's current
   * token or its grace-window predecessor). Returns null, after a warning, when the data
   * cannot be opened: unknown key id, wrong key, tampering, or unencrypted data.
   */
  open(column: unknown, token: string, publicId: string, current: boolean): OpenedData | null {
    const stored = (column ?? {}) as SealedColumn & Record<string, unknown>;
    const keys = Object.keys(stored);
    // A row created in SQL (session_handler) holds '{}': no data, no data key yet.
    if (keys.length === 0) return { data: Object.create(null) as SessionData, dataKey: null };
    try {
      if (keys.some((key) => key !== "$sealed" && key !== "$key" && key !== "$prevKey")) throw new Error("unencrypted data");
      const wrapped = current ? stored.$key : stored.$prevKey;
      if (typeof wrapped !== "string") throw new Error("no wrapped data key");
      const dot = wrapped.indexOf(".");
      const keyId = wrapped.slice(0, dot);
      const kek = dot > 0 ? this.#wrappingKey(keyId, token) : null;
      if (!kek) throw new Error(`unknown server key id ${JSON.stringify(keyId)}`);
      const dataKey = open(kek, wrapped.slice(dot + 1), `pgsession key ${publicId} ${keyId}`);
      const data = Object.create(null) as SessionData;
      if (stored.$sealed !== undefined) {
        const parsed = JSON.parse(open(dataKey, stored.$sealed, `pgsession data ${publicId}`).toString("utf8")) as SessionData;
        for (const key of Object.keys(parsed)) data[key] = parsed[key];
      }
      return { data, dataKey };
    } catch (err) {
      this.#warn(`pgsession: session ${publicId} cannot be decrypted (${(err as Error).message}); treating it as no session`);
      return null;
    }
  }
}

const ciphers = new WeakMap<EncryptionOptions, SessionCipher>();

/**
 * The one {@link SessionCipher} of an `encrypt` option object, so that the session manager
 * and its low-level token store share it.
 *
 * @example
 * ```ts
 * const cipher = cipherOf(options.encrypt); // same instance on every call
 * ```
 */
export function cipherOf(options: EncryptionOptions): SessionCipher {
  let cipher = ciphers.get(options);
  if (!cipher) ciphers.set(options, (cipher = new SessionCipher(options)));
  return cipher;
}
