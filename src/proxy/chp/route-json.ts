// Routes as configurable-http-proxy's API shows them: the stored data, the target and last_activity as an ISO string.
// The constant part of each route's JSON is cached per Route object (a re-added route is a new object, so the cache
// never goes stale), which keeps listing a table of 10,000 routes to string concatenation.
import type { Route } from '../types.ts';

const head = new WeakMap<Route, string>();

/** `{"target":…,<data keys>` without the closing brace; the live last_activity is appended per call. */
function headOf(route: Route): string {
  let text = head.get(route);
  if (text === undefined) {
    const rest = JSON.stringify(route.data);
    text = `{"target":${JSON.stringify(route.target)}` + (rest === '{}' ? '' : ',' + rest.slice(1, -1));
    head.set(route, text);
  }
  return text;
}

export function routeJson(route: Route): string {
  return `${headOf(route)},"last_activity":"${new Date(route.lastActivity).toISOString()}"}`;
}

/** The whole table as one JSON object keyed by route prefix; `inactiveBefore` keeps only routes idle since then. */
export function routesJson(routes: Iterable<Route>, inactiveBefore?: number): string {
  const parts: string[] = [];
  for (const route of routes) {
    if (inactiveBefore !== undefined && !(route.lastActivity < inactiveBefore)) continue;
    parts.push(`${JSON.stringify(route.prefix)}:${routeJson(route)}`);
  }
  return `{${parts.join(',')}}`;
}
