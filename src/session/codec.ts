/**
 * The data codec: how a session's data becomes the `data` column and back. Chosen once
 * per session manager: plain JSON, which PostgreSQL merges key by key, or sealed
 * (AES-256-GCM, see `encryption.ts`), which it cannot look into. Pure: no I/O.
 * @module
 */
import { cipherOf, type EncryptionOptions, type SessionCipher } from "./encryption.js";
import { emptyData, toData, type SessionData } from "./session.js";
import type { DataChanges } from "./table.js";

/** The data of a stored row as this request may read it, and its data key (sealed only). */
export interface OpenedRow {
  data: SessionData;
  dataKey: Buffer | null;
}

/** Who holds the data: the token and public id it is bound to. */
export interface DataOwner {
  token: string;
  publicId: string;
}

/**
 * A data codec.
 *
 * @example
 * ```ts
 * const codec = dataCodec(options.encrypt); // plain when null
 * const opened = codec.open(record.data, { token, publicId: record.id }, record.current);
 * ```
 */
export interface DataCodec {
  /** True when the database cannot read the data (so it cannot merge changed keys either). */
  readonly sealed: boolean;
  /** The data of a stored row, or null when it cannot be opened (sealed: wrong key, tampering). */
  open(column: Record<string, unknown>, owner: DataOwner, current: boolean): OpenedRow | null;
  /** The `data` column of a new row holding `data`; its data key, for a sealed row. */
  seal(data: SessionData, owner: DataOwner, dataKey?: Buffer | null): { column: string; dataKey: Buffer | null };
  /** The keys a rotation to `newToken` sets in the column (sealed: the data key re-wrapped), or null for none. */
  rotation(owner: DataOwner, newToken: string, dataKey: Buffer): DataChanges | null;
}

const plainCodec: DataCodec = {
  sealed: false,
  open: (column) => ({ data: toData(column), dataKey: null }),
  seal: (data) => ({ column: JSON.stringify(data), dataKey: null }),
  rotation: () => null,
};

function sealedCodec(cipher: SessionCipher): DataCodec {
  return {
    sealed: true,
    open: (column, owner, current) => cipher.open(column, owner.token, owner.publicId, current),
    seal(data, owner, dataKey = null) {
      const key = dataKey ?? cipher.newDataKey();
      const column: Record<string, string> = { $sealed: cipher.sealData(key, owner.publicId, data) };
      // A new key is stored wrapped under the token; an existing one already is.
      if (dataKey === null) column.$key = cipher.wrapKey(key, owner.token, owner.publicId);
      return { column: JSON.stringify(column), dataKey: key };
    },
    rotation(owner, newToken, dataKey) {
      // The new token unwraps the key from now on; the old one for the grace window.
      const set = {
        $key: cipher.wrapKey(dataKey, newToken, owner.publicId),
        $prevKey: cipher.wrapKey(dataKey, owner.token, owner.publicId),
      };
      return { deleted: "[]", set: JSON.stringify(set), cleared: false };
    },
  };
}

/**
 * The codec of a session manager: sealed when `encrypt` is given, else plain.
 *
 * @example
 * ```ts
 * dataCodec(null).sealed; // false
 * ```
 */
export function dataCodec(encrypt: EncryptionOptions | null): DataCodec {
  return encrypt ? sealedCodec(cipherOf(encrypt)) : plainCodec;
}

/**
 * `base` with a request's changes applied (sets, deletes, clear): what a sealed write
 * stores after another request wrote in between.
 *
 * @example
 * ```ts
 * applyChanges({ a: 1 }, new Map([["b", "2"]]), false); // { a: 1, b: 2 }
 * ```
 */
export function applyChanges(base: SessionData, changes: ReadonlyMap<string, string | undefined>, cleared: boolean): SessionData {
  const data = emptyData();
  if (!cleared) for (const key of Object.keys(base)) data[key] = base[key];
  for (const [key, text] of changes) {
    if (text === undefined) delete data[key];
    else data[key] = JSON.parse(text);
  }
  return data;
}
