// What the command line runs: the hub itself, `nodehub token USER`, and `nodehub upgrade-db`.
import type { HubConfig } from '../config/types.ts';
import { openStore, pendingMigrations, openDatabase } from '../store/index.ts';
import { newApiToken } from '../auth/index.ts';
import { startHub as start } from './start.ts';

export async function startHub(config: HubConfig): Promise<{ close(): Promise<void> }> {
  return start(config);
}

/** A new API token for USER (created if missing), like `jupyterhub token USER`. */
export async function createUserToken(config: HubConfig, name: string): Promise<string> {
  const store = openStore(config.hub.db_url);
  try {
    const user = store.users.get(name) ?? store.users.create(name);
    const token = newApiToken();
    store.tokens.create({ user_id: user.id, kind: 'api', token, note: 'Requested via nodehub token' });
    return token;
  } finally {
    store.close();
  }
}

export async function upgradeDb(config: HubConfig): Promise<string> {
  const db = openDatabase(config.hub.db_url);
  const pending = pendingMigrations(db);
  db.close();
  if (pending.length === 0) return 'The database is up to date.';
  const store = openStore(config.hub.db_url);
  const version = store.version;
  store.close();
  return `Applied ${pending.length} migration(s); the database is at version ${version}.`;
}
