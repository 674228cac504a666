// The routing table: route prefix -> target, kept as a trie of decoded path segments so that a lookup costs one map
// probe per segment of the request path, however many routes there are. Plain data, no I/O: the hub writes it with
// function calls and the forwarder only reads it (and bumps lastActivity on the Route objects it finds).
import type { Route } from './types.ts';

interface TrieNode {
  children: Map<string, TrieNode> | undefined;
  route: Route | undefined;
}

function newNode(): TrieNode {
  return { children: undefined, route: undefined };
}

/**
 * The canonical key for a route prefix, as configurable-http-proxy stores it: percent-decoded once, a leading '/', no
 * trailing '/' (except the root '/'). Empty segments are dropped too ('/a//b' -> '/a/b') because request paths are
 * matched after collapsing '//', so a key with an empty segment could never match anything.
 * Throws on malformed percent-encoding and on '.'/'..' segments (request paths never contain those after
 * normalisation, so such a route would be unreachable and is almost certainly a mistake).
 */
export function normalisePrefix(prefix: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(prefix);
  } catch {
    throw new Error(`invalid route prefix ${JSON.stringify(prefix)}: malformed percent-encoding`);
  }
  const segments = splitSegments(decoded);
  for (const s of segments) {
    if (s === '.' || s === '..') throw new Error(`invalid route prefix ${JSON.stringify(prefix)}: '${s}' segment`);
  }
  return '/' + segments.join('/');
}

function splitSegments(path: string): string[] {
  const out: string[] = [];
  for (const s of path.split('/')) if (s !== '') out.push(s);
  return out;
}

function checkTarget(target: unknown): string {
  if (typeof target !== 'string' || target === '') throw new Error('route target must be a non-empty URL string');
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new Error(`invalid route target ${JSON.stringify(target)}: not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`invalid route target ${JSON.stringify(target)}: protocol must be http or https`);
  }
  return target;
}

export class RouteTable {
  private readonly root: TrieNode = newNode();
  private readonly byPrefix = new Map<string, Route>();

  get size(): number {
    return this.byPrefix.size;
  }

  /** Adds or replaces the route at `prefix` (URL-encoded form, decoded once). lastActivity starts at now. */
  add(prefix: string, target: string, data: Record<string, unknown> = {}, now: number = Date.now()): Route {
    const key = normalisePrefix(prefix);
    const route: Route = { prefix: key, target: checkTarget(target), data: { ...data }, lastActivity: now };
    let node = this.root;
    for (const segment of splitSegments(key)) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (child === undefined) {
        child = newNode();
        node.children.set(segment, child);
      }
      node = child;
    }
    node.route = route;
    this.byPrefix.set(key, route);
    return route;
  }

  /** Removes the route at `prefix`; false when there was none. Empty branches are pruned so the trie never grows. */
  remove(prefix: string): boolean {
    const key = normalisePrefix(prefix);
    if (!this.byPrefix.delete(key)) return false;
    const segments = splitSegments(key);
    const path: TrieNode[] = [this.root];
    for (const segment of segments) path.push(path[path.length - 1].children!.get(segment)!);
    path[path.length - 1].route = undefined;
    for (let i = segments.length; i > 0; i--) {
      const node = path[i];
      if (node.route !== undefined || (node.children !== undefined && node.children.size > 0)) break;
      const parent = path[i - 1];
      parent.children!.delete(segments[i - 1]);
      if (parent.children!.size === 0) parent.children = undefined;
    }
    return true;
  }

  get(prefix: string): Route | undefined {
    return this.byPrefix.get(normalisePrefix(prefix));
  }

  /**
   * The route with the longest prefix matching whole segments of `path`, an already-decoded path such as
   * '/user/alice/lab'. '/user/al' does not match '/user/alice/x'. The root route '/' matches everything.
   */
  match(path: string): Route | undefined {
    return this.matchSegments(splitSegments(path));
  }

  /** As match(), for a path already split into decoded segments (no empty ones); the forwarder's hot path. */
  matchSegments(segments: readonly string[]): Route | undefined {
    let node: TrieNode | undefined = this.root;
    let best = node.route;
    for (let i = 0; i < segments.length; i++) {
      node = node.children?.get(segments[i]);
      if (node === undefined) break;
      if (node.route !== undefined) best = node.route;
    }
    return best;
  }

  all(): Route[] {
    return Array.from(this.byPrefix.values());
  }

  /** Records activity on a route; never moves it backwards (late events from a slow stream may carry older times). */
  touch(route: Route, when: number = Date.now()): void {
    if (when > route.lastActivity) route.lastActivity = when;
  }
}
