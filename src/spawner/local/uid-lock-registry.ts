// One UidLocks per hub (its database) and lock directory, made on first use: only a root hub switching uids asks for one.
import { resolve } from 'node:path';
import type { HubConfig } from '../../config/types.ts';
import { parseDbUrl } from '../../store/index.ts';
import { UidLocks } from './uid-locks.ts';

const registry = new Map<string, UidLocks>();

function hubKey(hubConfig: HubConfig): string {
  const url = hubConfig.hub?.db_url;
  const db = url ? parseDbUrl(url) : null;
  if (db?.kind === 'postgres') return `postgres:${db.redacted}`;
  return !db || db.memory ? `memory:${process.pid}:${hubConfig.hub?.port}` : resolve(db.filename);
}

/** The locks in `dir` for this hub; null when `dir` is empty (LocalProcessSpawner.uid_lock_dir turned off). */
export function uidLocksFor(dir: string, hubConfig: HubConfig): UidLocks | null {
  if (!dir) return null;
  const hub = hubKey(hubConfig);
  const key = `${dir}\0${hub}`;
  let locks = registry.get(key);
  if (!locks) registry.set(key, (locks = new UidLocks(dir, hub)));
  return locks;
}

export function forgetUidLocks(hubConfig: HubConfig): void {
  const hub = hubKey(hubConfig);
  for (const [key, locks] of registry) if (key.endsWith(`\0${hub}`)) locks.forgetAll();
}
