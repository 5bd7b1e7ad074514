/**
 * Compile-only checks of the public types: `npm test` type-checks this file before any
 * test runs, and every `@ts-expect-error` below must stay an error.
 */
import { createSessions, type Session, type SessionEventListener, type SessionsOptions } from "../../src/index.js";

interface Cart {
  items: string[];
  coupon?: string;
}

export async function typedData(): Promise<void> {
  const sessions = createSessions<Cart>();
  const session: Session<Cart> = await sessions.resolve(undefined);
  const items: string[] | undefined = session.get("items");
  session.set("items", [...(items ?? []), "book"]);
  session.set("coupon", "WELCOME");
  session.delete("coupon");
  // @ts-expect-error unknown key
  session.get("nope");
  // @ts-expect-error wrong value type
  session.set("items", 3);
  // @ts-expect-error ids are read-only
  session.id = "x";
  const cookie: string | null = await sessions.commit(session);
  void cookie;
}

export function optionTypes(): SessionsOptions[] {
  return [
    { idleTimeout: "30m", absoluteTimeout: 86_400_000, remember: { idleTimeout: "14d" } },
    { cookie: { name: "__Host-s", sameSite: "strict", secure: true, priority: "high" } },
    // @ts-expect-error SameSite values are a closed set
    { cookie: { sameSite: "loose" } },
    // @ts-expect-error durations are strings or numbers
    { idleTimeout: true },
  ];
}

/** A write of another library that returns a thenable rather than a Promise. */
declare function auditLog(line: string): PromiseLike<void>;

export function listenerTypes(): Array<() => void> {
  const sessions = createSessions();
  const onSaved: SessionEventListener<"saved"> = ({ id, version }) => auditLog(`${id} ${version}`);
  return [
    sessions.on("saved", onSaved),
    sessions.on("created", async ({ id }) => auditLog(id)),
    sessions.on("revoked", () => undefined),
    // @ts-expect-error a listener gets the event of its own name
    sessions.on("pruned", ({ version }) => auditLog(String(version))),
    // @ts-expect-error unknown event
    sessions.on("nope", () => undefined),
  ];
}
