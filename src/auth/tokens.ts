// Token values and the Authorization header, in JupyterHub's formats (spec 2.1): API tokens are uuid4 hex, OAuth
// access tokens and codes are 30-character random strings as oauthlib makes them. Hashing and lookup are the store's.
import { randomInt, randomUUID } from 'node:crypto';

export function newApiToken(): string {
  return randomUUID().replaceAll('-', '');
}

// oauthlib's generate_token alphabet: ASCII letters and digits, all URL-safe.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const OAUTH_LENGTH = 30;

function randomString(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function newOAuthToken(): string {
  return randomString(OAUTH_LENGTH);
}

export function newOAuthCode(): string {
  return randomString(OAUTH_LENGTH);
}

// Same rule as JupyterHub's auth_header_pat: anchored, case-insensitive scheme, exactly one whitespace-free token.
const AUTH_HEADER = /^(?:token|bearer)\s+(\S+)$/i;

/** The token in `Authorization: token X` / `bearer X`, or null for anything else (basic, two tokens, empty). */
export function parseAuthorizationHeader(value: string | string[] | undefined | null): string | null {
  if (typeof value !== 'string') return null;
  const m = AUTH_HEADER.exec(value.trim());
  return m ? m[1] : null;
}
