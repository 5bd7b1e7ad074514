/**
 * Every adapter checks its arguments when it is created, as `createSessions` does: a
 * misspelled option, a value of the wrong type or something that is not a session manager
 * throws `SessionConfigError` naming it, before any request.
 */
import Fastify from "fastify";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { SessionConfigError } from "../../src/errors.js";
import { sessionMiddleware as expressSessions } from "../../src/adapters/express.js";
import { pgsessionPlugin } from "../../src/adapters/fastify.js";
import { withSession as fetchSession } from "../../src/adapters/fetch.js";
import { sessionMiddleware as honoSessions } from "../../src/adapters/hono.js";
import { sessionMiddleware as koaSessions } from "../../src/adapters/koa.js";
import { sessionMiddleware as h3Sessions } from "../../src/adapters/h3.js";
import { createSessionMiddleware, withSession as nodeSession } from "../../src/adapters/node.js";
import { createSessions } from "../../src/index.js";
import { pgStore } from "../../src/store/pg.js";
import { DATABASE_URL } from "../support/db.js";

// Never queried: the adapters are only created.
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
const sessions = createSessions({ store: pgStore(pool) });
afterAll(() => pool.end());

/** Runs `create` (sync or async) and resolves to the SessionConfigError's option, or a note of what happened instead. */
async function optionBlamed(create: () => unknown): Promise<string> {
  try {
    await create();
  } catch (err) {
    return err instanceof SessionConfigError ? err.option : `another error: ${String(err)}`;
  }
  return "nothing thrown";
}

/** Registers the Fastify plugin with `options` and waits until the app is ready. */
async function fastifyWith(options: object): Promise<void> {
  const app = Fastify();
  try {
    await app.register(pgsessionPlugin, options as never).ready();
  } finally {
    await app.close();
  }
}

const handler = () => new Response("ok");
const nodeHandler = () => {};

/** Creates each adapter with `options` (the sessions and handlers valid). */
const ADAPTERS: Record<string, (options: Record<string, unknown>) => unknown> = {
  "node withSession": (options) => nodeSession(sessions, nodeHandler, options),
  "node createSessionMiddleware": (options) => createSessionMiddleware(sessions, options),
  "express sessionMiddleware": (options) => expressSessions(sessions, options),
  "fastify pgsessionPlugin": (options) => fastifyWith({ sessions, ...options }),
  "hono sessionMiddleware": (options) => honoSessions(sessions, options),
  "fetch withSession": (options) => fetchSession(sessions, handler, options),
  "koa sessionMiddleware": (options) => koaSessions(sessions, options),
  "h3 sessionMiddleware": (options) => h3Sessions(sessions, options),
};

describe("adapter options are checked at creation", () => {
  for (const [name, create] of Object.entries(ADAPTERS)) {
    describe(name, () => {
      it("throws SessionConfigError naming a misspelled option", async () => {
        expect(await optionBlamed(() => create({ trustproxy: true }))).toBe("trustproxy");
        expect(await optionBlamed(() => create({ onStoreErorr: () => {} }))).toBe("onStoreErorr");
      });

      it("throws SessionConfigError naming an option of the wrong type", async () => {
        expect(await optionBlamed(() => create({ trustProxy: "yes" }))).toBe("trustProxy");
        expect(await optionBlamed(() => create({ onStoreError: 503 }))).toBe("onStoreError");
        expect(await optionBlamed(() => create({ onSessionGone: "/login" }))).toBe("onSessionGone");
      });

      it("accepts its documented options", async () => {
        const fn = () => {};
        expect(await optionBlamed(() => create({}))).toBe("nothing thrown");
        expect(await optionBlamed(() => create({ trustProxy: false, onStoreError: fn, onSessionGone: fn }))).toBe("nothing thrown");
      });
    });
  }

  it("checks node's onError as a callback", async () => {
    expect(await optionBlamed(() => nodeSession(sessions, nodeHandler, { onError: true as never }))).toBe("onError");
    expect(await optionBlamed(() => createSessionMiddleware(sessions, { onErorr: () => {} } as never))).toBe("onErorr");
    expect(await optionBlamed(() => createSessionMiddleware(sessions, { onError: () => {} }))).toBe("nothing thrown");
  });

  it("throws SessionConfigError naming sessions when it is not a session manager", async () => {
    const notSessions = { resolve: "no" } as never;
    expect(await optionBlamed(() => nodeSession(notSessions, nodeHandler))).toBe("sessions");
    expect(await optionBlamed(() => createSessionMiddleware(notSessions))).toBe("sessions");
    expect(await optionBlamed(() => expressSessions(notSessions))).toBe("sessions");
    expect(await optionBlamed(() => fastifyWith({ sessions: notSessions }))).toBe("sessions");
    expect(await optionBlamed(() => fastifyWith({}))).toBe("sessions");
    expect(await optionBlamed(() => honoSessions(notSessions))).toBe("sessions");
    expect(await optionBlamed(() => fetchSession(notSessions, handler))).toBe("sessions");
    expect(await optionBlamed(() => koaSessions(notSessions))).toBe("sessions");
    expect(await optionBlamed(() => h3Sessions(notSessions))).toBe("sessions");
  });

  it("throws SessionConfigError naming handler when a handler is not a function", async () => {
    expect(await optionBlamed(() => nodeSession(sessions, undefined as never))).toBe("handler");
    expect(await optionBlamed(() => fetchSession(sessions, {} as never))).toBe("handler");
  });

  it("lets Fastify's own register options through", async () => {
    expect(await optionBlamed(() => fastifyWith({ sessions, prefix: "/app", logLevel: "warn" }))).toBe("nothing thrown");
  });
});
