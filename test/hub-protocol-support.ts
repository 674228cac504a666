// Browser-side helpers for the protocol tests: log in through the real login form and carry the cookies by hand
// (fetch keeps no cookie jar), and fetch hub paths without following redirects.
import { expect } from 'vitest';
import type { TestHub } from './support/hub.ts';
import { formSession } from './support/raw-http.ts';

/** Logs `name` in with the dummy authenticator's form; returns a Cookie header value with the hub's cookies. */
export async function login(hub: TestHub, name: string, password = 'any'): Promise<string> {
  // As a browser does: open the form first, for its _xsrf field and cookie.
  const form = await formSession(hub.origin, '/hub/login');
  const r = await fetch(`${hub.origin}/hub/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    body: new URLSearchParams({ username: name, password, _xsrf: form.xsrf }).toString(),
    redirect: 'manual',
  });
  expect(r.status).toBe(302);
  const cookies = [form.cookie, ...r.headers.getSetCookie().map((c) => c.split(';')[0])];
  expect(cookies.some((c) => c.startsWith('jupyterhub-hub-login='))).toBe(true);
  return cookies.join('; ');
}

/** The `_xsrf` value the hub's forms carry for a browser holding `cookie` (from login()). */
export async function xsrfFor(hub: TestHub, cookie: string): Promise<string> {
  return (await formSession(hub.origin, '/hub/token', cookie)).xsrf;
}

/** GET (or any method) on a path of the hub's origin, redirects not followed. */
export function get(hub: TestHub, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${hub.origin}${path}`, { redirect: 'manual', ...init });
}

/** Polls the admin API until the user's default server reports ready. */
export async function waitReady(hub: TestHub, user: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const model = await (await hub.api(`/users/${user}`)).json();
    if (model.servers?.['']?.ready) return;
    if (Date.now() > end) throw new Error(`${user}'s server not ready within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** JupyterHub's timestamp shape: ISO-8601 UTC with microseconds (ours end in 000) and Z. */
export const ISO_MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}000Z$/;
