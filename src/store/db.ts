// Small helpers shared by the aggregate modules: the connection type, token hashing and JSON column codecs.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';

export type Db = Database.Database;

/** sha256 hex: how tokens, OAuth codes and client secrets are stored and looked up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

export function fromJson<T>(text: string | null, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  return JSON.parse(text) as T;
}
