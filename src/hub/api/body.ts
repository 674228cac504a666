// Request bodies arrive parsed by fastify (JSON) or not at all; these turn them into checked values with 400s.
import { HubError } from '../../util/errors.ts';

/** A JSON object body; an absent or empty body is {}. */
export function bodyObject(body: unknown): Record<string, unknown> {
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
