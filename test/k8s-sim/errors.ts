// The API server's `Status` failure bodies. Handlers throw ApiError; the HTTP layer writes `status` with HTTP code
// equal to `status.code`, exactly as clients (client-node's ApiException, KubeSpawner) expect to parse them.

export interface StatusCause {
  reason: string;
  message: string;
  field: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: Record<string, unknown>;
  code: number;
}

export class ApiError extends Error {
  readonly status: StatusBody;
  readonly headers: Record<string, string>;

  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>, headers = {}) {
    super(message);
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
    this.headers = headers;
  }
}

/** `plural` for core resources, `plural.group` in messages of other groups (as the server prints them). */
function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

function details(name: string | undefined, plural: string, group: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (name !== undefined) out.name = name;
  if (group) out.group = group;
  out.kind = plural;
  return out;
}

export function notFound(plural: string, name: string, group = ''): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(plural, group)} "${name}" not found`, details(name, plural, group));
}

export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(plural: string, name: string, group = '', terminating = false): ApiError {
  const prefix = terminating ? 'object is being deleted: ' : '';
  const message = `${prefix}${qualified(plural, group)} "${name}" already exists`;
  return new ApiError(409, 'AlreadyExists', message, details(name, plural, group));
}

export function conflict(plural: string, name: string, group = '', why?: string): ApiError {
  const reason =
    why ?? 'the object has been modified; please apply your changes to the latest version and try again';
  const message = `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": ${reason}`;
  return new ApiError(409, 'Conflict', message, details(name, plural, group));
}

/** 422 with one or more field causes; `kind` is the Kind ("Pod"), not the plural, as in the real message. */
export function invalid(kind: string, name: string, causes: StatusCause[], group = ''): ApiError {
  const parts = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
  const d: Record<string, unknown> = { name, kind, causes };
  if (group) d.group = group;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${joined}`, d);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function forbidden(message: string, plural: string, name: string | undefined, group = ''): ApiError {
  return new ApiError(403, 'Forbidden', message, details(name, plural, group));
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function tooLargeResourceVersion(rv: string, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  }, { 'retry-after': '1' });
}

/** A failure of the given HTTP code with the reason the real server uses for it (fault injection, overload). */
export function byCode(code: number, message?: string): ApiError {
  const reasons: Record<number, string> = {
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
    410: 'Expired',
  };
  const headers: Record<string, string> = code === 429 || code === 503 ? { 'retry-after': '1' } : {};
  return new ApiError(code, reasons[code] ?? 'Unknown', message ?? `simulated failure (HTTP ${code})`, {}, headers);
}

/** The 410 Status a watch gets (as an ERROR event or as the HTTP answer) when its resourceVersion is compacted. */
export function tooOldResourceVersion(rv: string | number, oldest: number): ApiError {
  return expired(`too old resource version: ${rv} (${oldest})`);
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
