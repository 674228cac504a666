// Kubernetes-safe names for users and servers, computed as KubeSpawner 7's `safe` slug scheme does (spec 1.1), so a
// pod a KubeSpawner hub would call `jupyter-alice` is called the same here. Also the legacy `escape` scheme and the
// template expansion of pod_name_template and friends.
import { createHash } from 'node:crypto';

const HASH_LENGTH = 8;
/** KubeSpawner's per-field budget: labels are at most 63 characters, and two fields joined must still fit. */
export const SLUG_MAX_LENGTH = 48;

const lowerAlpha = /^[a-z]/;
const lowerAlnumEnd = /[a-z0-9]$/;
const objectPattern = /^[a-z0-9-]+$/;
const labelPattern = /^[a-z0-9._-]+$/i;

/** A DNS label under both RFC 1035 and 1123: starts with a letter, ends alphanumeric, lower case, at most 63. */
export function isValidObjectName(s: string): boolean {
  return s.length >= 1 && s.length <= 63 && lowerAlpha.test(s) && lowerAlnumEnd.test(s) && objectPattern.test(s);
}

/** A label value: empty, or up to 63 characters of alphanumerics and `-_.` with alphanumerics at both ends. */
export function isValidLabel(s: string): boolean {
  if (s === '') return true;
  return s.length <= 63 && /^[a-z0-9]/i.test(s) && /[a-z0-9]$/i.test(s) && labelPattern.test(s);
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Lower case, runs of anything else become one `-`, trimmed to `max`, always starting with a letter, never empty. */
function extractSafeName(name: string, max: number): string {
  let safe = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  safe = safe.replace(/^-+/, '').slice(0, max).replace(/-+$/, '');
  if (safe && !lowerAlpha.test(safe)) safe = `x-${safe.slice(0, max - 2)}`;
  return safe || 'x';
}

/** A safe name plus `---` and a short hash of the raw name, so distinct names never collide. */
export function stripAndHash(name: string, maxLength = 32): string {
  const nameLength = maxLength - (HASH_LENGTH + 3);
  if (nameLength < 1) throw new Error(`Cannot make safe names shorter than ${HASH_LENGTH + 4}`);
  const hash = sha256Hex(Buffer.from(name, 'utf8')).slice(0, HASH_LENGTH);
  return `${extractSafeName(name, nameLength)}---${hash}`;
}

/** The name itself when it is already valid (and has no `--`, which joined names use), otherwise stripAndHash. */
export function safeSlug(name: string, isValid: (s: string) => boolean = isValidObjectName, maxLength?: number): string {
  if (name.includes('--')) return stripAndHash(name, maxLength ?? 32);
  if (isValid(name) && (maxLength === undefined || name.length <= maxLength)) return name;
  return stripAndHash(name, maxLength ?? 32);
}

/** Several names joined by `--` with one hash of them all; 0xFF separates them in the hash (never a UTF-8 start byte). */
export function multiSlug(names: string[], maxLength = SLUG_MAX_LENGTH): string {
  const parts: Buffer[] = [];
  names.forEach((n, i) => {
    if (i > 0) parts.push(Buffer.from([0xff]));
    parts.push(Buffer.from(n, 'utf8'));
  });
  const hash = sha256Hex(Buffer.concat(parts)).slice(0, HASH_LENGTH);
  const perName = Math.floor((maxLength - (HASH_LENGTH + 1)) / names.length) - 2;
  if (perName < 2) throw new Error(`Not enough characters for ${names.length} names: ${maxLength}`);
  return `${names.map((n) => extractSafeName(n, perName)).join('--')}---${hash}`;
}

/** The legacy `escape` scheme (escapism with `-` as escape character): anything but [a-z0-9] becomes -XX per byte. */
export function escapeSlug(name: string): string {
  let out = '';
  for (const ch of name) {
    if (/^[a-z0-9]$/.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `-${byte.toString(16).padStart(2, '0')}`;
  }
  return out.toLowerCase();
}

export interface NameInput {
  userName: string;
  userId: number;
  serverName: string;
  /** The namespace pods go to (for `{namespace}`; `{hubnamespace}` is 'user' when it is 'default', as in KubeSpawner). */
  namespace: string;
  scheme?: 'safe' | 'escape';
}

/** Every field KubeSpawner offers to its templates, for one user and server. */
export function templateFields(input: NameInput): Record<string, string> {
  const raw = input.serverName;
  const safeServer = raw ? safeSlug(raw, isValidObjectName, SLUG_MAX_LENGTH) : '';
  const safeUser = safeSlug(input.userName, isValidObjectName, SLUG_MAX_LENGTH);
  let safeUserServer: string;
  if (safeUser.length + safeServer.length + 2 > SLUG_MAX_LENGTH) safeUserServer = multiSlug([input.userName, raw]);
  else safeUserServer = raw ? `${safeUser}--${safeServer}` : safeUser;
  const escapedUser = escapeSlug(input.userName);
  const escapedServer = escapeSlug(raw);
  const escapedUserServer = escapedServer ? `${escapedUser}--${escapedServer}` : escapedUser;
  const legacy = input.scheme === 'escape';
  return {
    userid: String(input.userId),
    unescaped_username: input.userName,
    unescaped_servername: raw,
    hubnamespace: input.namespace === 'default' ? 'user' : input.namespace,
    namespace: input.namespace,
    username: legacy ? escapedUser : safeUser,
    servername: legacy ? escapedServer : safeServer,
    user_server: legacy ? escapedUserServer : safeUserServer,
    safe_username: safeUser,
    safe_servername: safeServer,
    safe_user_server: safeUserServer,
    escaped_username: escapedUser,
    escaped_servername: escapedServer,
    escaped_user_server: `${escapedUser}--${escapedServer}`,
  };
}

/**
 * Expands `{field}` placeholders as Python's str.format would for the known fields; unknown ones stay as written.
 * A trailing `-` left by an empty server name is stripped unless the template itself ends with one.
 */
export function expandTemplate(template: string, fields: Record<string, string>): string {
  const rendered = template.replace(/\{([a-z_]+)\}/g, (whole, key: string) => (key in fields ? fields[key]! : whole));
  return template.endsWith('-') ? rendered : rendered.replace(/-+$/, '');
}

/** Expands every string inside plain data (lists, dicts), as KubeSpawner's _expand_all does for volumes and such. */
export function expandAll<T>(value: T, fields: Record<string, string>): T {
  if (typeof value === 'string') return expandTemplate(value, fields) as T;
  if (Array.isArray(value)) return value.map((v) => expandAll(v, fields)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandAll(v, fields)])) as T;
  }
  return value;
}
