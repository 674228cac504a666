// The cross-hub uid locks (src/spawner/local/uid-locks.ts) on their own: one holder at a time, a live other hub's lock
// respected, a dead hub's reclaimed, a hub's own lock taken back by its next process, and a handed-over hub's locks
// left for the successor.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UidLocks } from '../src/spawner/local/uid-locks.ts';
import { processStartTime } from '../src/spawner/local/os.ts';

let dir: string;
beforeAll(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodehub-uidlocks-')), 'uids');
});
afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

/** A lock as another hub process would have written it. */
function plant(uid: number, hub: string, pid: number, start: number | null): void {
  fs.writeFileSync(path.join(dir, String(uid)), `${hub} ${pid} ${start ?? 0}\n`);
}

describe('uid locks shared by hubs', () => {
  it('lets one hub hold a uid, releases it, and keeps the directory private', () => {
    const a = new UidLocks(dir, '/srv/a.sqlite');
    const b = new UidLocks(dir, '/srv/b.sqlite');
    expect(a.reserve(100)).toBe(true);
    expect(b.reserve(100)).toBe(false);
    expect(b.claim(100)).toBe(false);
    expect(fs.readFileSync(path.join(dir, '100'), 'utf8')).toMatch(/^\/srv\/a\.sqlite \d+ \d+\n$/);
    a.release(100);
    expect(b.reserve(100)).toBe(true);
    // releasing a uid it does not hold removes nothing
    a.release(100);
    expect(fs.existsSync(path.join(dir, '100'))).toBe(true);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it("reclaims a dead hub's lock, respects a live one's, and gives a hub its own back", () => {
    const dead = spawnSync('true').pid!;
    const c = new UidLocks(dir, '/srv/c.sqlite');
    plant(200, '/srv/gone.sqlite', dead, 1);
    expect(c.reserve(200)).toBe(true);
    // a live process that is another hub (this test process stands in for it)
    plant(201, '/srv/other.sqlite', process.pid, processStartTime(process.pid));
    expect(c.reserve(201)).toBe(false);
    // the same pid with another start time is a reused pid: the holder is dead
    plant(202, '/srv/other.sqlite', process.pid, 12345);
    expect(c.reserve(202)).toBe(true);
    // c's previous process, alive or not (a handover or a restart), left this one: c's adoption takes it back
    plant(203, '/srv/c.sqlite', process.pid, processStartTime(process.pid));
    expect(c.claim(203)).toBe(true);
    c.release(203);
    expect(fs.existsSync(path.join(dir, '203'))).toBe(false);
  });

  it('leaves its locks in place after a handover, for the successor to claim', () => {
    const d = new UidLocks(dir, '/srv/d.sqlite');
    expect(d.reserve(300)).toBe(true);
    d.forgetAll();
    d.release(300);
    expect(fs.existsSync(path.join(dir, '300'))).toBe(true);
    const successor = new UidLocks(dir, '/srv/d.sqlite');
    expect(successor.claim(300)).toBe(true);
  });

  it('refuses a lock directory others can write to', () => {
    const open = path.join(path.dirname(dir), 'open');
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    expect(() => new UidLocks(open, '/srv/e.sqlite')).toThrow(/uid_lock_dir .*open must be a directory owned by the hub's user that others cannot write to/);
  });
});
