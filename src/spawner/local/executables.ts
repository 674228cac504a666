// Finding a command the way exec does (PATH, executable files only) and reading a script's `#!` line: what the preload
// fork server and the version probe both need to learn which Python runs a server.
import fs from 'node:fs';
import path from 'node:path';

/** `file` as exec would find it on `searchPath` (or itself when it holds a `/` and is absolute), else null. */
export function onPath(file: string, searchPath: string): string | null {
  if (file.includes('/')) return path.isAbsolute(file) && isExecutable(file) ? file : null;
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir || '.', file);
    if (path.isAbsolute(candidate) && isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The file's first line (at most 256 bytes), or '' when it cannot be read. */
export function firstLine(file: string): string {
  let fd: number | null = null;
  try {
    fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(256);
    return buf.toString('latin1', 0, fs.readSync(fd, buf, 0, buf.length, 0)).split('\n')[0]!;
  } catch {
    return '';
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
