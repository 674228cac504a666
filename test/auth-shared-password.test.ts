// The shared password's pure parts: loading from the environment or a file, comparison, HTTP Basic parsing, the
// per-address limiter (rolling window, honest Retry-After, bounded memory) and the pass cookie's tie to the password.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttemptLimiter, SharedPassword, SharedPasswordError, loadSharedPassword, parseBasicAuth, passwordMatches,
} from '../src/auth/shared-password.ts';

const dir = mkdtempSync(join(tmpdir(), 'nodehub-sp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secret = Buffer.alloc(32, 7);

describe('loadSharedPassword', () => {
  it('prefers the variable, falls back to the file, and is null when neither is set', () => {
    const file = join(dir, 'pw');
    writeFileSync(file, ' two words \n\n');
    expect(loadSharedPassword({ NODEHUB_SHARED_PASSWORD: 'direct', NODEHUB_SHARED_PASSWORD_FILE: file })).toBe('direct');
    // Exactly one trailing newline goes; spaces and further newlines are part of the password.
    expect(loadSharedPassword({ NODEHUB_SHARED_PASSWORD_FILE: file })).toBe(' two words \n');
    writeFileSync(file, 'crlf\r\n');
    expect(loadSharedPassword({ NODEHUB_SHARED_PASSWORD_FILE: file })).toBe('crlf');
    expect(loadSharedPassword({})).toBeNull();
    expect(loadSharedPassword({ NODEHUB_SHARED_PASSWORD: '' })).toBeNull();
  });

  it('names the variable when the file is missing or empty', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(() => loadSharedPassword({ NODEHUB_SHARED_PASSWORD_FILE: empty })).toThrow(SharedPasswordError);
    expect(() => loadSharedPassword({ NODEHUB_SHARED_PASSWORD_FILE: empty })).toThrow(/^NODEHUB_SHARED_PASSWORD_FILE: .* is empty/);
    expect(() => loadSharedPassword({ NODEHUB_SHARED_PASSWORD_FILE: join(dir, 'nope') })).toThrow(/NODEHUB_SHARED_PASSWORD_FILE: cannot read/);
  });
});

describe('comparison and HTTP Basic', () => {
  it('matches only the exact password, whatever the lengths', () => {
    expect(passwordMatches('s3cret', 's3cret')).toBe(true);
    expect(passwordMatches('s3cret', 's3cre')).toBe(false);
    expect(passwordMatches('s3cret', 's3cret ')).toBe(false);
    expect(passwordMatches('s3cret', '')).toBe(false);
    expect(passwordMatches('pässwört', 'pässwört')).toBe(true);
  });

  it('parses Basic credentials and rejects anything else', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(parseBasicAuth(`Basic ${b64('me:pa:ss')}`)).toEqual({ user: 'me', password: 'pa:ss' });
    expect(parseBasicAuth(`basic ${b64(':pw')}`)).toEqual({ user: '', password: 'pw' });
    expect(parseBasicAuth(`Basic ${b64('no-colon')}`)).toBeNull();
    expect(parseBasicAuth('token abc')).toBeNull();
    expect(parseBasicAuth('Basic')).toBeNull();
    expect(parseBasicAuth(undefined)).toBeNull();
  });
});

describe('AttemptLimiter', () => {
  it('allows `limit` wrong tries per rolling window and says when the next one frees up', () => {
    const l = new AttemptLimiter({ limit: 3, windowMs: 60_000 });
    const t0 = 1_000_000;
    l.recordFailure('a', t0);
    l.recordFailure('a', t0 + 10_000);
    expect(l.retryAfter('a', t0 + 10_000)).toBe(0);
    l.recordFailure('a', t0 + 20_000);
    expect(l.retryAfter('a', t0 + 20_000)).toBe(40);
    expect(l.retryAfter('b', t0 + 20_000)).toBe(0);
    // The first failure leaves the window at t0+60s: one try frees up, and the next wait is for the second.
    expect(l.retryAfter('a', t0 + 59_500)).toBe(1);
    expect(l.retryAfter('a', t0 + 60_000)).toBe(0);
    l.recordFailure('a', t0 + 60_000);
    expect(l.retryAfter('a', t0 + 60_000)).toBe(10);
  });

  it('keeps bounded memory under a flood of distinct addresses', () => {
    const l = new AttemptLimiter({ limit: 10, windowMs: 60_000, maxAddresses: 1000 });
    for (let i = 0; i < 50_000; i++) l.recordFailure(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 5_000 + i);
    expect(l.size).toBeLessThanOrEqual(1000);
    // The most recent offenders are the ones remembered.
    for (let k = 0; k < 9; k++) l.recordFailure('10.0.195.79', 60_000);
    expect(l.retryAfter('10.0.195.79', 60_000)).toBeGreaterThan(0);
    // Old entries expire by themselves.
    expect(l.retryAfter('10.0.195.79', 60_000 + 61_000)).toBe(0);
  });
});

describe('SharedPassword', () => {
  it('counts wrong tries, and while limited refuses even the right one without counting', () => {
    const sp = new SharedPassword('pw', secret, { limit: 2 });
    expect(sp.check('x', 'ip', 0)).toEqual({ ok: false, retryAfter: 0 });
    expect(sp.check('pw', 'ip', 1)).toEqual({ ok: true });
    expect(sp.check('y', 'ip', 2)).toEqual({ ok: false, retryAfter: 0 });
    expect(sp.check('pw', 'ip', 3)).toEqual({ ok: false, retryAfter: 60 });
    expect(sp.check('pw', 'ip', 60_001)).toEqual({ ok: true });
  });

  it('issues pass cookies that stop working when the password or the secret changes', () => {
    const now = Date.now();
    const value = new SharedPassword('one', secret).passCookieValue(now);
    expect(value).not.toContain('one');
    expect(new SharedPassword('one', secret).validPassCookie(value, 14, now)).toBe(true);
    expect(new SharedPassword('two', secret).validPassCookie(value, 14, now)).toBe(false);
    expect(new SharedPassword('one', Buffer.alloc(32, 8)).validPassCookie(value, 14, now)).toBe(false);
    expect(new SharedPassword('one', secret).validPassCookie(value, 14, now + 15 * 86400_000)).toBe(false);
    expect(new SharedPassword('one', secret).validPassCookie(value.replace(/.$/, (c) => (c === '0' ? '1' : '0')), 14, now)).toBe(false);
  });
});
