// Request bodies arrive parsed by fastify (JSON) or not at all; these turn them into checked values with 400s.
import { HubError } from '../../util/errors.ts';

/** What the parser leaves for a body that is not JSON. The 400 comes when a handler reads the body, after it has checked
 *  who is asking, so an anonymous caller learns 403 first, as from JupyterHub, and a handler that takes no body ignores it. */
export class InvalidJsonBody {}

/** The parsed body, or the 400 for one that was not JSON. */
export function parsedBody(body: unknown): unknown {
  if (body instanceof InvalidJsonBody) throw new HubError(400, 'Invalid JSON in request body');
  return body;
}

/** A JSON object body; an absent or empty body is {}. */
export function bodyObject(raw: unknown): Record<string, unknown> {
  const body = parsedBody(raw);
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new HubError(400, 'Request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Query flags as JupyterHub reads them: present and not false/0 means true. */
export function flag(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

/** One query argument as tornado's get_argument reads it: a repeated key gives its last value, never a list. */
export function queryArg(query: unknown, name: string): string | undefined {
  const v = (query as Record<string, unknown> | undefined)?.[name];
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof last === 'string' ? last : undefined;
}
