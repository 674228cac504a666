// Expected failures, in two layers. The domain (src/servers, src/spawner, src/store callers) throws a DomainError
// saying what went wrong in its own terms; the HTTP layer (src/hub) turns it into a status in one place
// (src/hub/http-errors.ts). HubError is the HTTP layer's own: a status and a message a user may read. The hub renders
// either as JSON {status, message} on the API and as a page in the browser; anything else is an unexpected 500.

/** What kind of expected failure: the HTTP layer alone knows which status each one is. */
export type DomainErrorKind =
  /** The request itself is malformed or names something that does not exist among the choices (bad user options). */
  | 'invalid'
  /** The thing is in the wrong state for this (a server already running, or still stopping). */
  | 'wrong-state'
  | 'not-found'
  | 'conflict'
  | 'forbidden'
  /** A configured limit (concurrent spawns, active servers) is reached; trying again later may work. */
  | 'limit-reached'
  /** The database does not answer (PostgreSQL restarting or down); trying again later may work. */
  | 'unavailable';

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  /** For 'limit-reached' and 'unavailable': when trying again is worth it. */
  readonly retryAfterSeconds?: number;
  constructor(kind: DomainErrorKind, message: string, opts: { retryAfterSeconds?: number } = {}) {
    super(message);
    this.kind = kind;
    if (opts.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export function isDomainError(e: unknown, kind?: DomainErrorKind): e is DomainError {
  return e instanceof DomainError && (kind === undefined || e.kind === kind);
}

export class HubError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

export function isHubError(e: unknown): e is HubError {
  return e instanceof HubError;
}
