// List semantics of spec 6.2/6.3: which snapshot a resourceVersion/resourceVersionMatch asks for, limit/continue
// paging over one consistent snapshot, remainingItemCount, and list items without their own kind/apiVersion.
import { badRequest, expired, tooLargeResourceVersion } from './errors.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import type { Matcher } from './selectors.ts';
import type { Store } from './store.ts';
import type { KObject } from './types.ts';

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: string;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

interface Token {
  rv: number;
  ns: string;
  name: string;
}

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: [t.ns, t.name] })).toString('base64url');
}

function decodeToken(text: string): Token {
  try {
    const raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (typeof raw.rv === 'number' && Array.isArray(raw.start) && raw.start.length === 2) {
      return { rv: raw.rv, ns: String(raw.start[0]), name: String(raw.start[1]) };
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function after(o: KObject, t: Token): boolean {
  const ns = o.metadata.namespace ?? '';
  return ns > t.ns || (ns === t.ns && (o.metadata.name ?? '') > t.name);
}

function parseRv(rv: string, store: Store): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`resourceVersion: Invalid value: "${rv}": must be a non-negative integer`);
  const n = Number(rv);
  if (n > store.currentRv) throw tooLargeResourceVersion(rv, store.currentRv);
  return n;
}

/** Strips kind/apiVersion as the real server does for list items. */
export function asListItem(obj: KObject): KObject {
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = obj;
  return rest as KObject;
}

export function listObjects(store: Store, r: ResourceDef, matcher: Matcher, q: ListQuery): KObject {
  const rv = q.resourceVersion ?? '';
  const match = q.resourceVersionMatch ?? '';
  if (match && !rv) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (match && match !== 'Exact' && match !== 'NotOlderThan') {
    throw badRequest(`resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
  }
  if (q.continue && rv && rv !== '0') throw badRequest('specifying resource version is not allowed when using continue');
  let limit = q.limit ? Number(q.limit) : 0;
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit: Invalid value: "${q.limit}": must be a non-negative integer`);

  let snapshotRv = store.currentRv;
  let items: readonly KObject[];
  let token: Token | null = null;
  if (q.continue) {
    token = decodeToken(q.continue);
    snapshotRv = token.rv;
    try {
      items = store.snapshotAt(r.id, snapshotRv, 'continue token for resource version');
    } catch {
      throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
  } else if (rv === '0' && !match) {
    // served from the watch cache: the real server ignores limit here
    limit = 0;
    items = store.view(r.id, matcher);
  } else if (rv && (match === 'Exact' || (!match && limit > 0))) {
    snapshotRv = parseRv(rv, store);
    items = store.snapshotAt(r.id, snapshotRv);
  } else {
    if (rv && rv !== '0') parseRv(rv, store);
    items = store.view(r.id, matcher);
  }

  let filtered = items.filter((o) => matcher(o) && (!token || after(o, token)));
  const meta: Record<string, unknown> = { resourceVersion: String(snapshotRv) };
  if (limit > 0 && filtered.length > limit) {
    const last = filtered[limit - 1];
    meta.continue = encodeToken({ rv: snapshotRv, ns: last.metadata.namespace ?? '', name: last.metadata.name ?? '' });
    if (!q.labelSelector && !q.fieldSelector) meta.remainingItemCount = filtered.length - limit;
    filtered = filtered.slice(0, limit);
  }
  return {
    kind: `${r.kind}List`,
    apiVersion: apiVersionOf(r),
    metadata: meta,
    items: filtered.map(asListItem),
  };
}
