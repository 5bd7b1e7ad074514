/**
 * A tour of pgsession on the embedded PGlite database: create, read, rotate, log in,
 * list and revoke sessions, and print what happens. Run with `npm run quickstart`.
 */
import { createSessions } from "pgsession";
import { pgliteStore } from "pgsession/pglite";

const store = pgliteStore(); // in memory: no server needed
const sessions = createSessions<{ visits: number }>({ store, idleTimeout: "30m" });
console.log("migrations applied:", await sessions.migrate());

// 1. A first visit: no cookie, so a new session, stored once it has data.
const first = await sessions.resolve(undefined, { ip: "127.0.0.1", userAgent: "quickstart" });
first.set("visits", 1);
const setCookie = await sessions.commit(first);
console.log("\n1. new visitor -> Set-Cookie:", setCookie);
const cookie = setCookie!.split(";")[0]!;

// 2. The browser sends the cookie back.
const second = await sessions.resolve(cookie);
second.set("visits", (second.get("visits") ?? 0) + 1);
await sessions.commit(second);
console.log("2. same visitor: visits =", second.get("visits"), "public id =", second.id);

// 3. What the database holds: a SHA-256 hash, never the token.
const [row] = (await store.query(
  { name: "peek", text: "SELECT encode(token_hash, 'hex') AS hash, data FROM pgsession.sessions" },
  [],
)) as Array<{ hash: string; data: unknown }>;
console.log("3. stored row:", row);

// 4. Login rotates the token; the old one keeps working for a short grace window.
await second.login("alice", { remember: true });
const loginCookie = await sessions.commit(second);
console.log("4. login -> new persistent cookie:", loginCookie);
const viaOldToken = await sessions.resolve(cookie);
console.log("   old token during grace window -> same session:", viaOldToken.id === second.id);

// 5. A second device, then "sign out everywhere else".
const phone = await sessions.resolve(undefined, { userAgent: "phone" });
await phone.login("alice");
await sessions.commit(phone);
console.log(
  "5. alice's sessions:",
  (await sessions.listUserSessions("alice", { current: second })).map((s) => `${s.id} ${s.userAgent}${s.current ? " (this one)" : ""}`),
);
console.log("   revoked others:", await sessions.revokeUserSessions("alice", { except: second }));

// 6. A forged cookie never reaches SQL and gives a fresh session.
const forged = await sessions.resolve("session=not-a-real-token");
console.log("6. forged cookie -> new session:", forged.isNew);

// 7. Logout deletes the row and clears the cookie.
await second.logout();
console.log("7. logout -> Set-Cookie:", await sessions.commit(second));
console.log("   sessions left for alice:", (await sessions.listUserSessions("alice")).length);
await sessions.close();
