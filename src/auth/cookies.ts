// Cookie headers and signed cookie values. Only the hub reads its own cookies (spec 3.4), so the signed format is ours:
// "<unix seconds>|<base64url value>|<hex HMAC-SHA256>", the MAC covering the cookie name, timestamp and value so a
// value cannot be replayed under another cookie name or with a refreshed timestamp.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export { loadOrCreateCookieSecret } from './cookie-secret.ts';

// RFC 6265 cookie-octet minus '%', which we use as the escape character.
const SAFE_VALUE_CHAR = /[\x21\x23-\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]/;
const TOKEN_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function decodeValue(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Parses a `Cookie` request header. When a name repeats, the first wins: browsers list the cookie with the longest
 * (most specific) path first.
 */
export function parseCookies(header: string | undefined | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (typeof header !== 'string') return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out[name] = decodeValue(value);
  }
  return out;
}

export interface CookieOptions {
  path?: string;
  domain?: string;
  /** Seconds. */
  maxAge?: number;
  expires?: Date;
  httpOnly?: boolean;
  secure?: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
}

function encodeValue(value: string): string {
  let out = '';
  // toWellFormed: a lone surrogate would make encodeURIComponent throw.
  for (const ch of value.toWellFormed()) out += SAFE_VALUE_CHAR.test(ch) ? ch : encodeURIComponent(ch);
  return out;
}

/** A `Set-Cookie` header value. Characters a cookie value cannot carry are percent-encoded (parseCookies decodes). */
export function serializeCookie(name: string, value: string, opts: CookieOptions = {}): string {
  if (!TOKEN_NAME.test(name)) throw new Error(`Invalid cookie name ${JSON.stringify(name)}`);
  const parts = [`${name}=${encodeValue(value)}`];
  if (opts.expires !== undefined) {
    if (Number.isNaN(opts.expires.getTime())) throw new Error(`Invalid expires date for cookie ${name}`);
    parts.push(`Expires=${opts.expires.toUTCString()}`);
  }
  if (opts.maxAge !== undefined) {
    if (!Number.isFinite(opts.maxAge)) throw new Error(`Invalid maxAge for cookie ${name}: ${opts.maxAge}`);
    parts.push(`Max-Age=${Math.floor(opts.maxAge)}`);
  }
  if (opts.domain) {
    if (/[;\s]/.test(opts.domain)) throw new Error(`Invalid cookie domain ${JSON.stringify(opts.domain)}`);
    parts.push(`Domain=${opts.domain}`);
  }
  if (opts.path) {
    if (/[;\x00-\x1f]/.test(opts.path)) throw new Error(`Invalid cookie path ${JSON.stringify(opts.path)}`);
    parts.push(`Path=${opts.path}`);
  }
  if (opts.httpOnly) parts.push('HttpOnly');
  if (opts.secure) parts.push('Secure');
  if (opts.sameSite) parts.push(`SameSite=${opts.sameSite}`);
  return parts.join('; ');
}

/** A `Set-Cookie` value that makes the browser drop the cookie (path and domain must match the original). */
export function clearCookie(name: string, opts: Pick<CookieOptions, 'path' | 'domain'> = {}): string {
  return serializeCookie(name, '', { ...opts, expires: new Date(0), maxAge: 0 });
}

// Timestamps further ahead than this were not made by us with a sane clock (tornado uses the same bound).
const MAX_FUTURE_SECONDS = 31 * 86400;

const hmacKeys = new WeakMap<Buffer, KeyObject>();

/** The secret as a KeyObject, made once per secret: createHmac with a KeyObject costs ~2 µs, with a Buffer ~12 µs
 *  (the key is imported anew each time), and every cookie signed or checked makes one. */
export function hmacKey(secret: Buffer): KeyObject {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = createSecretKey(secret);
    hmacKeys.set(secret, key);
  }
  return key;
}

function mac(secret: Buffer, name: string, ts: string, encoded: string): string {
  // The name is length-prefixed so no (name, value) pair can collide with another.
  return createHmac('sha256', hmacKey(secret)).update(`${name.length}:${name}|${ts}|${encoded}`).digest('hex');
}

/** Signs `value` for cookie `name`; `now` in milliseconds (Date.now()). */
export function signValue(secret: Buffer, name: string, value: string, now: number = Date.now()): string {
  if (secret.length === 0) throw new Error('Cannot sign cookies with an empty secret');
  const ts = String(Math.floor(now / 1000));
  const encoded = Buffer.from(value, 'utf8').toString('base64url');
  return `${ts}|${encoded}|${mac(secret, name, ts, encoded)}`;
}

/**
 * The value signed by signValue for this cookie name, or null if the signature does not match, it was signed for
 * another name, or it is older than `maxAgeDays`.
 */
export function verifySignedValue(
  secret: Buffer,
  name: string,
  signed: string | undefined | null,
  maxAgeDays: number,
  now: number = Date.now(),
): string | null {
  if (typeof signed !== 'string' || secret.length === 0) return null;
  const parts = signed.split('|');
  if (parts.length !== 3) return null;
  const [ts, encoded, sig] = parts;
  if (!/^\d{1,12}$/.test(ts) || !/^[0-9a-f]{64}$/.test(sig)) return null;
  const expected = Buffer.from(mac(secret, name, ts, encoded), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) return null;
  const age = now / 1000 - Number(ts);
  if (age > maxAgeDays * 86400 || age < -MAX_FUTURE_SECONDS) return null;
  return Buffer.from(encoded, 'base64url').toString('utf8');
}
