import { describe, expect, it } from 'vitest';
import { newApiToken, newOAuthCode, newOAuthToken, parseAuthorizationHeader } from '../src/auth/tokens.ts';

describe('token values', () => {
  it('API tokens are uuid4 hex', () => {
    const t = newApiToken();
    expect(t).toMatch(/^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/);
    expect(newApiToken()).not.toBe(t);
  });

  it('OAuth tokens and codes are 30 URL-safe characters and do not repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      for (const t of [newOAuthToken(), newOAuthCode()]) {
        expect(t).toMatch(/^[A-Za-z0-9]{30}$/);
        seen.add(t);
      }
    }
    expect(seen.size).toBe(400);
  });
});

describe('parseAuthorizationHeader', () => {
  it('takes token and bearer schemes in any case', () => {
    expect(parseAuthorizationHeader('token abc123')).toBe('abc123');
    expect(parseAuthorizationHeader('bearer abc123')).toBe('abc123');
    expect(parseAuthorizationHeader('Bearer abc123')).toBe('abc123');
    expect(parseAuthorizationHeader('TOKEN   abc123')).toBe('abc123');
  });

  it('rejects everything else', () => {
    for (const h of [
      'token a b',
      'bearer abc extra',
      'Basic dXNlcjpwYXNz',
      'abc123',
      'token',
      'token ',
      'tokenabc',
      'xtoken abc',
      '',
    ]) {
      expect(parseAuthorizationHeader(h), h).toBeNull();
    }
    expect(parseAuthorizationHeader(undefined)).toBeNull();
    expect(parseAuthorizationHeader(['token a', 'token b'])).toBeNull();
  });
});
