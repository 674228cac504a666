// Routes as configurable-http-proxy's API shows them: the stored data, the target and last_activity as an ISO string.
// Each Route object's JSON is cached (a re-added route is a new object, so the constant part never goes stale) and so
// is its last_activity text, redone only when the activity moved: JupyterHub lists the whole table every few minutes
// and most routes are idle between two listings, so listing 10,000 routes is string concatenation.
import type { Route } from '../types.ts';

interface Cached {
  /** `"<prefix>":{"target":…,<data keys>` without the closing brace. */
  head: string;
  /** Length of the `"<prefix>":` part of head. */
  keyLength: number;
  /** `,"last_activity":"…"}` for `activity`. */
  tail: string;
  activity: number;
}

const cache = new WeakMap<Route, Cached>();

function cached(route: Route): Cached {
  let c = cache.get(route);
  if (c === undefined) {
    const rest = JSON.stringify(route.data);
    const key = `${JSON.stringify(route.prefix)}:`;
    const head = `${key}{"target":${JSON.stringify(route.target)}` + (rest === '{}' ? '' : ',' + rest.slice(1, -1));
    c = { head, keyLength: key.length, tail: '', activity: NaN };
    cache.set(route, c);
  }
  if (c.activity !== route.lastActivity) {
    c.activity = route.lastActivity;
    c.tail = `,"last_activity":"${new Date(route.lastActivity).toISOString()}"}`;
  }
  return c;
}

/** One route's JSON object, without its prefix key. */
export function routeJson(route: Route): string {
  const c = cached(route);
  return c.head.slice(c.keyLength) + c.tail;
}

/** The whole table as one JSON object keyed by route prefix; `inactiveBefore` keeps only routes idle since then. */
export function routesJson(routes: Iterable<Route>, inactiveBefore?: number): string {
  const parts: string[] = [];
  for (const route of routes) {
    if (inactiveBefore !== undefined && !(route.lastActivity < inactiveBefore)) continue;
    const c = cached(route);
    parts.push(c.head + c.tail);
  }
  return `{${parts.join(',')}}`;
}
