// Databases with many users, written directly (not through either hub's API) so a 1,000,000-user file takes seconds.
// Both hubs get the same population: users who once logged in and had a default server that is now stopped.
// nodehub: its own migrations, then users + servers rows. JupyterHub: the schema its first start created, then users,
// their 'user' role and a stopped spawner, by populate_jupyterhub.py under python3.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { migrate, openDatabase } from '../../src/store/index.ts';

const JUPYTERHUB_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'populate_jupyterhub.py');
const BATCH = 50_000;

/** A fresh nodehub database at `file` (absolute path) holding `count` users; returns the milliseconds it took. */
export function populateNodehub(file: string, count: number): number {
  const t0 = performance.now();
  const db = openDatabase(`sqlite:///${file}`);
  try {
    migrate(db);
    db.pragma('synchronous = OFF');
    const addUser = db.prepare(
      'INSERT INTO users (id, name, admin, created, last_activity, cookie_id) VALUES (?, ?, 0, ?, ?, ?)',
    );
    const addServer = db.prepare("INSERT INTO servers (user_id, name) VALUES (?, '')");
    const now = Date.now();
    // Batches keep the WAL from growing to the size of the whole file before its first checkpoint.
    const batch = db.transaction((from: number, to: number) => {
      for (let id = from; id < to; id++) {
        addUser.run(id, `user${String(id).padStart(7, '0')}`, now, now, randomUUID().replaceAll('-', ''));
        addServer.run(id);
      }
    });
    for (let from = 1; from <= count; from += BATCH) batch(from, Math.min(from + BATCH, count + 1));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return performance.now() - t0;
}

/**
 * Copies a JupyterHub database that holds only its schema to `file` and adds `count` users in a python3 child, so it
 * can run beside populateNodehub on the other core; resolves to the milliseconds it took.
 */
export async function populateJupyterhub(template: string, file: string, count: number): Promise<number> {
  const t0 = performance.now();
  copyFileSync(template, file);
  if (count > 0) await promisify(execFile)('python3', [JUPYTERHUB_SCRIPT, file, String(count)], { timeout: 120_000 });
  return performance.now() - t0;
}
