import { redirect } from "@sveltejs/kit";
import type { Actions, PageServerLoad } from "./$types";

export const load: PageServerLoad = ({ locals }) => ({
  user: locals.session.userId,
  visits: locals.session.get("visits") ?? 0,
});

/** The name the login form sent: 1 to 40 characters without control characters, else "alice". */
function loginName(value: unknown): string {
  const name = typeof value === "string" ? value.trim() : "";
  return name.length > 0 && name.length <= 40 && !/[\u0000-\u001f\u007f]/.test(name) ? name : "alice";
}

export const actions = {
  count: ({ locals }) => {
    locals.session.set("visits", (locals.session.get("visits") ?? 0) + 1);
  },
  login: async ({ locals, request }) => {
    await locals.session.login(loginName((await request.formData()).get("name")));
    redirect(303, "/");
  },
  logout: async ({ locals }) => {
    await locals.session.logout();
    redirect(303, "/");
  },
} satisfies Actions;
