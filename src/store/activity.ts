// Compact record of who was active when, for "active users in the last 24 h / 7 d / 30 d" counts. Rows hold a salted
// hash of the user name, never a user id, so counts survive the culling of ephemeral users and name nobody.
import { createHash } from 'node:crypto';
import type { Store } from './types.ts';
import { type Exec, stmt } from './sql.ts';

const dayMs = 86_400_000;

function split(when: number): { day: number; ms: number } {
  if (!Number.isFinite(when)) throw new Error(`activity time must be a finite number of epoch ms, got ${when}`);
  const t = Math.floor(when);
  const day = Math.floor(t / dayMs);
  return { day, ms: t - day * dayMs };
}

// One row per (day, user): repeated activity within a day only moves that day's latest time forward.
const record = stmt('activity_record', `
  INSERT INTO user_activity (day, user_hash, ms) VALUES ($1, $2, $3)
  ON CONFLICT (day, user_hash) DO UPDATE SET ms = CASE WHEN excluded.ms > user_activity.ms THEN excluded.ms ELSE user_activity.ms END`);
// A user counts if their latest time on some day at or after `since` is itself at or after `since`.
const countSince = stmt('activity_count_since', `
  SELECT COUNT(DISTINCT user_hash) FROM user_activity
  WHERE day >= $1 AND (day > $1 OR ms >= $2)`);
const prune = stmt('activity_prune', 'DELETE FROM user_activity WHERE day < $1 OR (day = $1 AND ms < $2)');
const saltStmt = stmt('activity_salt', "SELECT value FROM hub_meta WHERE key = 'activity_salt'");

/** The per-database salt, read once when the store opens. */
export async function activitySalt(x: Exec): Promise<Buffer> {
  const salt = await x.value<Buffer>(saltStmt);
  if (!salt) throw new Error('database has no activity salt (hub_meta); was it migrated?');
  return salt;
}

export function activityRepo(x: Exec, salt: Buffer): Store['activity'] {
  // 48 bits keep the row small (6-byte integer) while 100,000 names collide with odds of about 1 in 50,000.
  const userHash = (name: string) => createHash('sha256').update(salt).update(name, 'utf8').digest().readUIntBE(0, 6);
  return {
    async record(userName, when) {
      const { day, ms } = split(when);
      await x.run(record, [day, userHash(userName), ms]);
    },
    async countSince(since) {
      const { day, ms } = split(since);
      return (await x.value<number>(countSince, [day, ms]))!;
    },
    async prune(before) {
      const { day, ms } = split(before);
      await x.run(prune, [day, ms]);
    },
  };
}
