// Reservations of uids across hubs on one host (several hubs, one uid_range: seed 004's per-toolchain instances). Each
// hub knows only its own allocations and skips uids that own a process, but two hubs picking a uid at the same moment
// both see it free. A uid is therefore reserved by creating the file <uid_lock_dir>/<uid> (by link(2), atomic: one
// creator wins) before it is used, and released by removing it with the uid's last server.
//
// A lock records its holder as "<hub> <pid> <process start time>", <hub> being the hub's database path: the same hub
// restarted or taking over by handover claims its own locks back for the servers it adopts, and a lock whose process is
// gone (a hub that was SIGKILLed and not restarted) is reclaimed. Reclaiming removes a file another hub might judge
// stale at the same moment, so it runs under <uid_lock_dir>/.reclaim (itself such a lock): removal of a live
// hub's lock never happens, as only dead holders' locks are removed and only one reclaimer runs at a time. The
// directory is root's, mode 0700: users cannot plant or remove locks (that would deny or double-hand uids).
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, processStartTime } from './os.ts';

export class UidLocks {
  readonly dir: string;
  private readonly me: string;
  /** The locks this process holds (and will remove at release). */
  private readonly held = new Set<number>();

  constructor(dir: string, hub: string) {
    this.dir = dir;
    this.me = `${hub.replaceAll(/\s/g, '_')} ${process.pid} ${processStartTime(process.pid) ?? 0}`;
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022)) {
      throw new Error(`LocalProcessSpawner.uid_lock_dir ${dir} must be a directory owned by the hub's user that others cannot write to`);
    }
  }

  private file(uid: number): string {
    return path.join(this.dir, String(uid));
  }

  /**
   * Creates `file` holding this hub's line, or false when it exists. Written aside and linked into place (link fails
   * when the name exists, atomically), so a lock is never seen empty: an empty one would look like a dead holder's.
   */
  private create(file: string): boolean {
    const tmp = `${file}.${process.pid}.new`;
    fs.writeFileSync(tmp, `${this.me}\n`, { mode: 0o600 });
    try {
      fs.linkSync(tmp, file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  private holder(file: string): { hub: string; alive: boolean } | null {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return null;
    }
    const [hub = '', pidText = '', startText = ''] = text.trim().split(' ');
    const pid = Number(pidText);
    const alive = Number.isInteger(pid) && pid > 0 && isAlive(pid) && String(processStartTime(pid) ?? 0) === startText;
    return { hub, alive };
  }

  /** Reserves `uid` for this hub; false when another hub holds it. */
  reserve(uid: number): boolean {
    const file = this.file(uid);
    if (this.create(file)) {
      this.held.add(uid);
      return true;
    }
    if (!this.reclaim(file)) return false;
    if (!this.create(file)) return false;
    this.held.add(uid);
    return true;
  }

  /**
   * A uid of a server this hub adopts: its own lock (written by this hub's earlier process) is taken over, a dead
   * holder's reclaimed; false when a live other hub holds it.
   */
  claim(uid: number): boolean {
    if (this.held.has(uid)) return true;
    const file = this.file(uid);
    const holder = this.holder(file);
    if (holder && holder.hub === this.me.split(' ')[0]) {
      // rename over it: the file is never absent, so no other hub can create it in between
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, `${this.me}\n`, { mode: 0o600 });
      fs.renameSync(tmp, file);
      this.held.add(uid);
      return true;
    }
    return this.reserve(uid);
  }

  /** Removes the lock when this process holds it. */
  release(uid: number): void {
    if (!this.held.delete(uid)) return;
    fs.rmSync(this.file(uid), { force: true });
  }

  /** After a handover the locks belong to the successor, which claims them: forget them without removing them. */
  forgetAll(): void {
    this.held.clear();
  }

  /** Removes `file` when its holder has died; true when removed (or already gone). */
  private reclaim(file: string): boolean {
    const holder = this.holder(file);
    if (holder === null) return true;
    if (holder.alive) return false;
    const gate = path.join(this.dir, '.reclaim');
    if (!this.create(gate)) {
      // A reclaimer that died inside its few lines leaves the gate behind: remove it and let the next attempt run.
      const g = this.holder(gate);
      if (g && !g.alive) fs.rmSync(gate, { force: true });
      return false;
    }
    try {
      const again = this.holder(file);
      if (again && !again.alive) fs.rmSync(file, { force: true });
      return !again || !again.alive;
    } finally {
      fs.rmSync(gate, { force: true });
    }
  }
}
