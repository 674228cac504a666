// The one place a domain failure becomes an HTTP status (JupyterHub's statuses for the same failures).
import { type DomainErrorKind, DomainError, HubError, isDomainError } from '../util/errors.ts';

const STATUS: Record<DomainErrorKind, number> = {
  invalid: 400,
  // JupyterHub answers a start of a running (or stopping) server with 400, not 409.
  'wrong-state': 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'limit-reached': 429,
  unavailable: 503,
};

/** The HubError a domain error is answered with; other errors pass through unchanged. */
export function toHttpError(err: unknown): unknown {
  if (!isDomainError(err)) return err;
  const headers: Record<string, string> = err.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(err.retryAfterSeconds) };
  return new HubError(STATUS[err.kind], err.message, headers);
}

export { DomainError };
