// /proc helpers for the preload tests: liveness, parent, uid, and a search of a process's private memory.
import fs from 'node:fs';

function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return statFields(pid)[0] !== 'Z';
  } catch {
    return false;
  }
}

export const parentOf = (pid: number): number => Number(statFields(pid)[1]);
export const sessionOf = (pid: number): number => Number(statFields(pid)[3]);

/** Real, effective, saved and filesystem uid. */
export function uidsOf(pid: number): number[] {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
  return line.slice(4).trim().split(/\s+/).map(Number);
}

/** A preloading fork server (forkserver.py), not the plain launcher (forkserver.py --plain). */
export function isForkServer(pid: number): boolean {
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return cmdline.includes('forkserver.py') && !cmdline.includes('\0--plain');
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Whether `needle` is anywhere in the process's anonymous memory (heap, stack, private mappings); needs root. */
export function memoryContains(pid: number, needle: string): boolean {
  const target = Buffer.from(needle);
  const mem = fs.openSync(`/proc/${pid}/mem`, 'r');
  try {
    for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) r\S+ \S+ \S+ \S+\s*(\S*)/.exec(line);
      if (!m || (m[3] && !m[3].startsWith('[heap') && !m[3].startsWith('[stack'))) continue;
      const [from, to] = [parseInt(m[1]!, 16), parseInt(m[2]!, 16)];
      const buf = Buffer.alloc(to - from);
      let n = 0;
      try {
        n = fs.readSync(mem, buf, 0, buf.length, from);
      } catch {
        continue; // a guard page or a region gone meanwhile
      }
      if (buf.subarray(0, n).includes(target)) return true;
    }
    return false;
  } finally {
    fs.closeSync(mem);
  }
}
