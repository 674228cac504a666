// The shared site-wide password of an event: one secret for everyone, kept out of the config file (it comes from the
// environment or a mounted secret file), compared in constant time, guarded by a per-address limit on wrong tries,
// and remembered by a signed pass cookie that dies when the password changes. No HTTP framework here: the hub wires it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signValue, verifySignedValue } from './cookies.ts';

export const PASSWORD_ENV = 'NODEHUB_SHARED_PASSWORD';
export const PASSWORD_FILE_ENV = 'NODEHUB_SHARED_PASSWORD_FILE';
export const PASS_COOKIE = 'nodehub-shared-password';

export class SharedPasswordError extends Error {}

/**
 * The configured password, or null when none is set. The variable wins over the file; a file named but unreadable or
 * empty is an error (a mis-mounted secret must not silently open the hub).
 */
export function loadSharedPassword(env: Record<string, string | undefined>): string | null {
  const direct = env[PASSWORD_ENV];
  if (direct !== undefined && direct !== '') return direct;
  const file = env[PASSWORD_FILE_ENV];
  if (file === undefined || file === '') return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new SharedPasswordError(`${PASSWORD_FILE_ENV}: cannot read the shared password file ${file} (${why})`);
  }
  // Secret files usually end with one newline (echo, kubectl create secret --from-file); only that one is dropped.
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new SharedPasswordError(`${PASSWORD_FILE_ENV}: the shared password file ${file} is empty`);
  return password;
}

/** Constant-time: hashing first makes both sides the same length, so neither length nor content leaks by timing. */
export function passwordMatches(expected: string, candidate: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(candidate, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** `Authorization: Basic …` as {user, password}, or null when the header is absent or not well-formed Basic. */
export function parseBasicAuth(header: string | string[] | undefined | null): { user: string; password: string } | null {
  if (typeof header !== 'string') return null;
  const m = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim());
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export interface LimiterOptions {
  /** Wrong tries allowed per address within the window. */
  limit?: number;
  windowMs?: number;
  /** Addresses remembered at most; beyond it the least recently failing are forgotten. */
  maxAddresses?: number;
}

/**
 * Wrong tries per client address over a rolling window. Memory is bounded: each address keeps at most `limit`
 * timestamps, and at most `maxAddresses` addresses are kept (expired ones are swept first, then the stalest go).
 */
export class AttemptLimiter {
  readonly limit: number;
  readonly windowMs: number;
  readonly maxAddresses: number;
  // Insertion order is last-failure order: a failing address is re-inserted, so the first key is the stalest.
  private readonly failures = new Map<string, number[]>();

  constructor(opts: LimiterOptions = {}) {
    this.limit = opts.limit ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
    if (!(this.limit >= 1) || !(this.windowMs > 0) || !(this.maxAddresses >= 1)) throw new Error('AttemptLimiter: limits must be positive');
  }

  get size(): number {
    return this.failures.size;
  }

  private recent(address: string, now: number): number[] {
    const times = this.failures.get(address);
    if (!times) return [];
    const live = times.filter((t) => t > now - this.windowMs);
    if (live.length === 0) this.failures.delete(address);
    else if (live.length !== times.length) this.failures.set(address, live);
    return live;
  }

  /** Seconds until this address may try again; 0 when it may try now. */
  retryAfter(address: string, now: number = Date.now()): number {
    const live = this.recent(address, now);
    if (live.length < this.limit) return 0;
    // The oldest counted failure leaves the window first and frees one try.
    return Math.max(1, Math.ceil((live[live.length - this.limit] + this.windowMs - now) / 1000));
  }

  recordFailure(address: string, now: number = Date.now()): void {
    const live = this.recent(address, now);
    this.failures.delete(address);
    if (this.failures.size >= this.maxAddresses) this.evict(now);
    live.push(now);
    this.failures.set(address, live.slice(-this.limit));
  }

  // Oldest first, so this stops at the first live entry: O(1) per try even under a flood of new addresses.
  private evict(now: number): void {
    for (const [address, times] of this.failures) {
      const expired = times[times.length - 1] <= now - this.windowMs;
      if (!expired && this.failures.size < this.maxAddresses) break;
      this.failures.delete(address);
    }
  }
}

export type PasswordCheck = { ok: true } | { ok: false; retryAfter: number };

/** The password, its limiter and its pass cookie, for one hub. */
export class SharedPassword {
  readonly limiter: AttemptLimiter;
  private password: string;
  private readonly secret: Buffer;
  private fingerprint: string;

  /** `limits` may be the hub's login limiter itself, so that wrong tries here and at the login form share buckets. */
  constructor(password: string, cookieSecret: Buffer, limits: LimiterOptions | AttemptLimiter = {}) {
    if (password === '') throw new SharedPasswordError('The shared password must not be empty');
    this.secret = cookieSecret;
    this.limiter = limits instanceof AttemptLimiter ? limits : new AttemptLimiter(limits);
    this.password = password;
    this.fingerprint = this.fingerprintOf(password);
  }

  /** A config reload's new password: pass cookies of the old one stop being valid, as after a restart. */
  replace(password: string): boolean {
    if (password === '') throw new SharedPasswordError('The shared password must not be empty');
    if (password === this.password) return false;
    this.password = password;
    this.fingerprint = this.fingerprintOf(password);
    return true;
  }

  // Keyed with the cookie secret, so a pass cookie (readable by its holder) gives nothing to guess the password from.
  private fingerprintOf(password: string): string {
    return createHmac('sha256', this.secret).update(`shared-password\0${password}`).digest('hex').slice(0, 16);
  }

  /**
   * Checks one try from `address`. Refused tries while the address is limited are not counted, so `retryAfter`
   * stays true; a wrong try is counted. `retryAfter` > 0 means limited (answer 429), 0 means simply wrong.
   */
  check(candidate: string, address: string, now: number = Date.now()): PasswordCheck {
    const wait = this.limiter.retryAfter(address, now);
    if (wait > 0) return { ok: false, retryAfter: wait };
    if (passwordMatches(this.password, candidate)) return { ok: true };
    this.limiter.recordFailure(address, now);
    return { ok: false, retryAfter: 0 };
  }

  /** The signed value of a fresh pass cookie. */
  passCookieValue(now: number = Date.now()): string {
    return signValue(this.secret, PASS_COOKIE, `v1:${this.fingerprint}`, now);
  }

  /** True for a pass cookie this hub signed for the current password within `maxAgeDays`. */
  validPassCookie(value: string | undefined | null, maxAgeDays: number, now: number = Date.now()): boolean {
    return verifySignedValue(this.secret, PASS_COOKIE, value, maxAgeDays, now) === `v1:${this.fingerprint}`;
  }
}
