/** The floor on Express 5: the node:http floor's queries behind Express routing. */
import express from "express";
import { announceReady, cookieValue, createPool, readServerEnv, startControl } from "./common.js";
import { createFloorDb, newSessionData } from "./floor-db.js";

const env = readServerEnv();
const pool = createPool(env);
const db = await createFloorDb(pool, env);
startControl(env, pool);

const app = express();
app.get("/login", async (_req, res) => {
  const id = await db.create(newSessionData());
  res.cookie("sid", id, { httpOnly: true, sameSite: "lax", maxAge: 86_400_000 }).send("ok");
});
const readOrWrite =
  (write: boolean): express.RequestHandler =>
  async (req, res) => {
    const id = cookieValue(req.headers.cookie, "sid");
    const data = id ? await db.read(id) : null;
    if (!id || !data) return void res.status(401).send("no session");
    if (write) {
      data.n += 1;
      await db.update(id, data);
    }
    res.send(String(data.n));
  };
app.get("/read", readOrWrite(false));
app.get("/write", readOrWrite(true));
app.listen(env.port, "127.0.0.1", () => announceReady("floor-express"));
