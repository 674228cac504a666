// Small request helpers shared by API and page handlers: where the browser thinks it is, what it wants back.
import type { FastifyRequest } from 'fastify';

/** First value of a possibly comma-joined forwarded header. */
function first(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  return v?.split(',')[0]?.trim() || undefined;
}

/** The scheme the browser used: X-Forwarded-Proto / X-Scheme first (the hub may sit behind an ingress), else the socket. */
export function requestProto(req: FastifyRequest): 'http' | 'https' {
  const fwd = first(req.headers['x-forwarded-proto']) ?? first(req.headers['x-scheme']);
  if (fwd === 'https' || fwd === 'http') return fwd;
  return (req.raw.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
}

export function requestHost(req: FastifyRequest): string {
  return first(req.headers['x-forwarded-host']) ?? req.headers.host ?? 'localhost';
}

export function requestOrigin(req: FastifyRequest): string {
  return `${requestProto(req)}://${requestHost(req)}`;
}

/** True when the client asks for JSON (API clients, fetch from the single-user UI). */
export function prefersJson(req: FastifyRequest): boolean {
  const accept = String(req.headers.accept ?? '');
  if (!accept) return false;
  const json = accept.indexOf('application/json');
  const html = accept.indexOf('text/html');
  return json !== -1 && (html === -1 || json < html);
}

/** The raw path+query of the request as the client sent it. */
export function requestUri(req: FastifyRequest): string {
  return req.raw.url ?? req.url;
}
