// Compact record of who was active when, for "active users in the last 24 h / 7 d / 30 d" counts. Rows hold a salted
// hash of the user name, never a user id, so counts survive the culling of ephemeral users and name nobody.
import { createHash } from 'node:crypto';
import type { Store } from './types.ts';
import type { Db } from './db.ts';

const dayMs = 86_400_000;

function split(when: number): { day: number; ms: number } {
  if (!Number.isFinite(when)) throw new Error(`activity time must be a finite number of epoch ms, got ${when}`);
  const t = Math.floor(when);
  const day = Math.floor(t / dayMs);
  return { day, ms: t - day * dayMs };
}

export function activityRepo(db: Db): Store['activity'] {
  const salt = db.prepare<[], Buffer>("SELECT value FROM hub_meta WHERE key = 'activity_salt'").pluck().get();
  if (!salt) throw new Error('database has no activity salt (hub_meta); was it migrated?');
  // 48 bits keep the row small (6-byte integer) while 100,000 names collide with odds of about 1 in 50,000.
  const userHash = (name: string) => createHash('sha256').update(salt).update(name, 'utf8').digest().readUIntBE(0, 6);

  // One row per (day, user): repeated activity within a day only moves that day's latest time forward.
  const record = db.prepare<[number, number, number]>(`
    INSERT INTO user_activity (day, user_hash, ms) VALUES (?, ?, ?)
    ON CONFLICT (day, user_hash) DO UPDATE SET ms = max(ms, excluded.ms)`);
  // A user counts if their latest time on some day at or after `since` is itself at or after `since`.
  const countSince = db.prepare<[{ day: number; ms: number }], number>(`
    SELECT COUNT(DISTINCT user_hash) FROM user_activity
    WHERE day >= @day AND (day > @day OR ms >= @ms)`).pluck();
  const prune = db.prepare<[{ day: number; ms: number }]>(
    'DELETE FROM user_activity WHERE day < @day OR (day = @day AND ms < @ms)',
  );

  return {
    record(userName, when) {
      const { day, ms } = split(when);
      record.run(day, userHash(userName), ms);
    },
    countSince(since) {
      return countSince.get(split(since))!;
    },
    prune(before) {
      prune.run(split(before));
    },
  };
}
