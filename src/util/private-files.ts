// The hub's own files (database and its -wal/-shm, cookie secret) hold what a visitor's server must never read: the
// sessions, tokens and the key that signs every login. Made private at start-up, whatever mode they were left with.
import { chmodSync, closeSync, openSync, statSync } from 'node:fs';

/** chmod 0600 each existing file that group or others can access; returns one message per file it changed. */
export function makePrivate(files: string[]): string[] {
  const changed: string[] = [];
  for (const file of files) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue; // not there (yet): sqlite gives -wal and -shm the database file's mode when it makes them
    }
    if (!(mode & 0o077)) continue;
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}) and could not be made private: ${(err as Error).message}; run: chmod 600 ${file}`);
    }
    changed.push(`${file} was readable by other users (mode ${mode.toString(8)}); it is now 600`);
  }
  return changed;
}

/** Creates `file` empty with mode 0600 when it does not exist (the process umask is not trusted to be strict). */
export function createPrivate(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
