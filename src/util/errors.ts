// The one error type for expected failures: a status and a message a user may read. The hub renders it as JSON
// {status, message} on the API and as a page in the browser; anything else is an unexpected 500 without internals.
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
