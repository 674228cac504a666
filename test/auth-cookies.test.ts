import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clearCookie,
  loadOrCreateCookieSecret,
  parseCookies,
  serializeCookie,
  signValue,
  verifySignedValue,
} from '../src/auth/cookies.ts';

describe('parseCookies / serializeCookie', () => {
  it('parses a Cookie header, first occurrence wins, quotes and escapes undone', () => {
    expect(parseCookies('a=1; b="two"; a=3; c=x%20y; bad; d=%E0%A4%A')).toEqual({ a: '1', b: 'two', c: 'x y', d: '%E0%A4%A' });
    expect(parseCookies(undefined)).toEqual({});
    expect(parseCookies('')).toEqual({});
  });

  it('serializes attributes the way browsers expect', () => {
    expect(
      serializeCookie('jupyterhub-hub-login', 'v', {
        path: '/hub/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        maxAge: 3600,
        expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
      }),
    ).toBe('jupyterhub-hub-login=v; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; Path=/hub/; HttpOnly; Secure; SameSite=Lax');
    expect(serializeCookie('jupyterhub-session-id', 'abc')).toBe('jupyterhub-session-id=abc');
    expect(clearCookie('x', { path: '/' })).toBe('x=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/');
  });

  it('round-trips values with characters a cookie cannot carry', () => {
    const value = 'a b;c,d"e\\f%g|ü';
    const header = serializeCookie('n', value);
    expect(header.slice('n='.length)).toMatch(/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/);
    expect(parseCookies(header)).toEqual({ n: value });
  });

  it('rejects names and attributes that would split the header', () => {
    expect(() => serializeCookie('a b', 'v')).toThrow(/Invalid cookie name/);
    expect(() => serializeCookie('a;b', 'v')).toThrow(/Invalid cookie name/);
    expect(() => serializeCookie('n', 'v', { path: '/x; Domain=evil' })).toThrow(/Invalid cookie path/);
  });
});

describe('signed values', () => {
  const secret = Buffer.alloc(32, 7);
  const now = Date.UTC(2026, 0, 1);

  it('round-trips', () => {
    const signed = signValue(secret, 'jupyterhub-hub-login', 'cookie-id-1', now);
    expect(verifySignedValue(secret, 'jupyterhub-hub-login', signed, 14, now + 1000)).toBe('cookie-id-1');
    expect(verifySignedValue(secret, 'c', signValue(secret, 'c', 'with|pipes and ünïcode', now), 14, now)).toBe(
      'with|pipes and ünïcode',
    );
  });

  it('rejects a tampered value, signature or timestamp', () => {
    const signed = signValue(secret, 'c', 'alice', now);
    const [ts, value, sig] = signed.split('|');
    const other = Buffer.from('mallory').toString('base64url');
    expect(verifySignedValue(secret, 'c', `${ts}|${other}|${sig}`, 14, now)).toBeNull();
    expect(verifySignedValue(secret, 'c', `${Number(ts) + 1}|${value}|${sig}`, 14, now)).toBeNull();
    const flipped = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    expect(verifySignedValue(secret, 'c', `${ts}|${value}|${flipped}`, 14, now)).toBeNull();
    expect(verifySignedValue(Buffer.alloc(32, 8), 'c', signed, 14, now)).toBeNull();
    for (const junk of ['', 'x', 'a|b|c', `${signed}|x`, null, undefined]) {
      expect(verifySignedValue(secret, 'c', junk, 14, now)).toBeNull();
    }
  });

  it('rejects a value signed for another cookie name', () => {
    const signed = signValue(secret, 'jupyterhub-services', 'alice', now);
    expect(verifySignedValue(secret, 'jupyterhub-hub-login', signed, 14, now)).toBeNull();
  });

  it('expires after maxAgeDays', () => {
    const signed = signValue(secret, 'c', 'alice', now);
    const day = 86400_000;
    expect(verifySignedValue(secret, 'c', signed, 14, now + 14 * day - 1000)).toBe('alice');
    expect(verifySignedValue(secret, 'c', signed, 14, now + 14 * day + 1000)).toBeNull();
    expect(verifySignedValue(secret, 'c', signed, 1, now + 2 * day)).toBeNull();
    // Signed far in the future (a clock gone wrong) is not trusted either.
    expect(verifySignedValue(secret, 'c', signed, 14, now - 40 * day)).toBeNull();
  });
});

describe('loadOrCreateCookieSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nodehub-secret-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a 32-byte secret file with mode 0600 and reuses it', () => {
    const file = join(dir, 'jupyterhub_cookie_secret');
    const first = loadOrCreateCookieSecret({ file, env: {} });
    expect(first.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe(first.toString('hex') + '\n');
    expect(readdirSync(dir)).toEqual(['jupyterhub_cookie_secret']);
    const second = loadOrCreateCookieSecret({ file, env: {} });
    expect(second.equals(first)).toBe(true);
  });

  it('refuses a file others or the group can read', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'ab'.repeat(32));
    chmodSync(file, 0o644);
    expect(() => loadOrCreateCookieSecret({ file, env: {} })).toThrow(/Refusing .*group or others.*chmod 600/);
    chmodSync(file, 0o640);
    expect(() => loadOrCreateCookieSecret({ file, env: {} })).toThrow(/Refusing/);
    chmodSync(file, 0o600);
    expect(loadOrCreateCookieSecret({ file, env: {} }).toString('hex')).toBe('ab'.repeat(32));
  });

  it('config hex wins over env, env over the file, and nothing is written then', () => {
    const file = join(dir, 'secret');
    const cfg = 'cd'.repeat(32);
    const env = { JPY_COOKIE_SECRET: 'ef'.repeat(32) };
    expect(loadOrCreateCookieSecret({ secretHex: cfg, file, env }).toString('hex')).toBe(cfg);
    expect(loadOrCreateCookieSecret({ file, env }).toString('hex')).toBe('ef'.repeat(32));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('gives a clear error for bad hex', () => {
    const file = join(dir, 'secret');
    expect(() => loadOrCreateCookieSecret({ secretHex: 'xyz', file })).toThrow(/JupyterHub.cookie_secret must be .*hexadecimal/);
    expect(() => loadOrCreateCookieSecret({ file, env: { JPY_COOKIE_SECRET: 'abc' } })).toThrow(/JPY_COOKIE_SECRET/);
    writeFileSync(file, 'not hex', { mode: 0o600 });
    expect(() => loadOrCreateCookieSecret({ file, env: {} })).toThrow(/Cookie secret file .* hexadecimal/);
  });

  it('gives a clear error when the directory does not exist', () => {
    expect(() => loadOrCreateCookieSecret({ file: join(dir, 'missing', 'secret'), env: {} })).toThrow(
      /Cannot create cookie secret file/,
    );
  });
});
