/**
 * Diagnostic: the Express floor with its query in a middleware (`app.use`), where any
 * session middleware runs, rather than in the route. Compared with floor-express it is
 * the cost of one Express middleware layer; compared with pgsession-express, the adapter's own.
 */
import express from "express";
import { announceReady, cookieValue, createPool, readServerEnv, startControl } from "./common.js";
import { createFloorDb, newSessionData, type BenchData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const db = await createFloorDb(pool, env);
startControl(env, pool);

type Loaded = express.Request & { floor?: { id: string; data: BenchData } | null };
const app = express();
app.use(async (req: Loaded, _res, next) => {
  const id = cookieValue(req.headers.cookie, "sid");
  const data = id && req.path !== "/login" ? await db.read(id) : null;
  req.floor = id && data ? { id, data } : null;
  next();
});
app.get("/login", async (_req, res) => {
  const id = await db.create(newSessionData());
  res.cookie("sid", id, { httpOnly: true, sameSite: "lax", maxAge: 86_400_000 }).send("ok");
});
const readOrWrite =
  (write: boolean): express.RequestHandler =>
  async (req: Loaded, res) => {
    const loaded = req.floor;
    if (!loaded) return void res.status(401).send("no session");
    if (write) {
      loaded.data.n += 1;
      await db.update(loaded.id, loaded.data);
    }
    res.send(String(loaded.data.n));
  };
app.get("/read", readOrWrite(false));
app.get("/write", readOrWrite(true));
app.listen(env.port, "127.0.0.1", () => announceReady("floor-express-middleware"));
