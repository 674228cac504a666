// Pagination as JupyterHub 3.0 does it (spec 2.1.6): offset/limit always; the {items, _pagination} envelope only for
// clients that ask for it with the Accept header, with an absolute next URL built from the request's own origin.
import type { FastifyRequest } from 'fastify';
import type { Hub } from '../context.ts';
import { HubError } from '../../util/errors.ts';
import { requestOrigin, requestUri } from '../http.ts';

export const PAGINATION_MEDIA = 'application/jupyterhub-pagination+json';

export interface Page {
  offset: number;
  limit: number;
  envelope: boolean;
}

function intParam(q: Record<string, unknown>, name: string): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  // Decimal digits only, as Python's int() takes them: Number() would also accept 0x10, 1e3 and Infinity.
  const s = String(Array.isArray(v) ? v[0] : v);
  // JupyterHub takes abs() of a negative; nodehub refuses it like any other number out of range.
  if (!/^\s*\+?\d{1,15}\s*$/.test(s)) throw new HubError(400, `${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return Number(s);
}

export function readPage(hub: Hub, req: FastifyRequest): Page {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const envelope = String(req.headers.accept ?? '').includes(PAGINATION_MEDIA);
  const max = hub.config.hub.api_page_max_limit;
  const def = envelope ? hub.config.hub.api_page_default_limit : max;
  const offset = intParam(q, 'offset') ?? 0;
  let limit = intParam(q, 'limit') ?? def;
  limit = Math.min(Math.max(limit, 1), max);
  return { offset, limit, envelope };
}

/** `items` is a list, or a dict for GET /proxy, which pages a dict of routes as JupyterHub does. */
export function pageReply<T>(req: FastifyRequest, page: Page, items: T, total: number): unknown {
  if (!page.envelope) return items;
  const nextOffset = page.offset + page.limit;
  let next = null;
  if (nextOffset < total) {
    const url = new URL(requestUri(req), requestOrigin(req));
    url.searchParams.set('offset', String(nextOffset));
    url.searchParams.set('limit', String(page.limit));
    next = { offset: nextOffset, limit: page.limit, url: url.toString() };
  }
  return { items, _pagination: { offset: page.offset, limit: page.limit, total, next } };
}
