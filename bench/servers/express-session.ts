/** The peer: Express 5 + express-session + connect-pg-simple (resave false, saveUninitialized false, maxAge 1 day). */
import express from "express";
import { announceReady, createPool, importUntyped, ONE_DAY_MS, PEER_SECRET, readServerEnv, startControl } from "./common.js";
import { newSessionData } from "./floor-db.js";
import { createPeerStore, handlePeerRoute } from "./peer-store.js";

const env = readServerEnv();
const pool = createPool(env);
const session = await importUntyped("express-session");
const store = await createPeerStore(session, pool, env);
startControl(env, pool);

const app = express();
app.use(session({ store, secret: PEER_SECRET, resave: false, saveUninitialized: false, cookie: { maxAge: ONE_DAY_MS } }));
for (const path of ["/login", "/read", "/write"]) {
  app.get(path, (req, res) => {
    const { status, body } = handlePeerRoute(
      path,
      (req as unknown as { session: Record<string, any> }).session,
      () => newSessionData().userId,
    );
    // As the Express floors answer: res.status only for a failure (on Express's responses
    // each property store takes V8's slow path, about 2 µs).
    if (status !== 200) res.status(status);
    res.send(body);
  });
}
app.listen(env.port, "127.0.0.1", () => announceReady("express-session"));
