// The session every load function, action and endpoint finds at event.locals.session.
import type { SessionLocals } from "pgsession/sveltekit";
import type { ExampleData } from "$lib/server/sessions";

declare global {
  namespace App {
    interface Locals extends SessionLocals<ExampleData> {}
  }
}

export {};
