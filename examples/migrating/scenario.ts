/**
 * The scenario both migration examples run twice, against the app as it was (a peer
 * session library) and as it is after the migration (pgsession): the same requests, whose
 * answers must be the same, step by step. Each app serves:
 *
 *   GET  /me      -> { user, cart }
 *   POST /cart    -> adds an item to the cart; { cart }
 *   POST /login   -> signs in (a new session id, the cart kept); { user }
 *   POST /logout  -> signs out (the session ended); { ok }
 */

/** One request of the scenario and what it answered. */
export interface Step {
  request: string;
  status: number;
  body: unknown;
}

/** A cookie jar for one cookie name: what a browser keeps and sends. */
class Jar {
  cookie: string | null = null;
  constructor(readonly name: string) {}
  read(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      if (pair.slice(0, eq) !== this.name) continue;
      const expired = /max-age=0/i.test(line) || /expires=thu, 01 jan 1970/i.test(line);
      this.cookie = expired ? null : pair;
    }
  }
}

/**
 * Runs the scenario on the app at `base` whose session cookie is `cookieName`; resolves to
 * its steps. A stolen copy of the cookie from before the login is replayed after it: it
 * must no longer reach the signed-in session.
 */
export async function runScenario(base: string, cookieName: string): Promise<Step[]> {
  const browser = new Jar(cookieName);
  const steps: Step[] = [];
  const send = async (method: string, path: string, jar: Jar = browser, label = `${method} ${path}`) => {
    const response = await fetch(base + path, {
      method,
      headers: { ...(jar.cookie && { cookie: jar.cookie }), ...(method === "POST" && { "content-type": "application/json" }) },
      ...(method === "POST" && { body: "{}" }),
    });
    jar.read(response);
    steps.push({ request: label, status: response.status, body: await response.json() });
  };
  await send("GET", "/me");
  await send("POST", "/cart?item=book");
  await send("POST", "/cart?item=pen");
  const stolen = new Jar(cookieName);
  stolen.cookie = browser.cookie;
  await send("POST", "/login?user=alice");
  await send("GET", "/me");
  await send("GET", "/me", stolen, "GET /me with the cookie from before the login");
  await send("POST", "/logout");
  await send("GET", "/me");
  return steps;
}

/** What any correct app must have answered, whichever library: the reasons the scenario exists. */
function problemsOf(steps: Step[]): string[] {
  const body = (i: number) => steps[i]?.body as { user?: unknown; cart?: unknown } | undefined;
  const problems: string[] = [];
  if (JSON.stringify(body(4)) !== JSON.stringify({ user: "alice", cart: ["book", "pen"] }))
    problems.push("the login lost the user or the cart");
  if (body(5)?.user !== null) problems.push("the cookie from before the login still reaches the signed-in session (fixation)");
  if (body(7)?.user !== null) problems.push("the logout did not end the session");
  return problems;
}

/** Compares two runs; prints the verdict and resolves to the exit code (0: the same, and right). */
export function compare(before: Step[], after: Step[], names: [string, string]): number {
  const a = JSON.stringify(before, null, 2);
  const b = JSON.stringify(after, null, 2);
  const problems = [...problemsOf(before).map((p) => `${names[0]}: ${p}`), ...problemsOf(after).map((p) => `${names[1]}: ${p}`)];
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    return 1;
  }
  if (a === b) {
    console.log(`same behaviour: ${before.length} requests answered alike by ${names[0]} and ${names[1]}`);
    return 0;
  }
  console.error(`different behaviour:\n${names[0]}:\n${a}\n${names[1]}:\n${b}`);
  return 1;
}
