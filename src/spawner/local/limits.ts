// Spawner.mem_limit and Spawner.cpu_limit for local servers: one cgroup per server under a `nodehub` parent (cgroup v2
// where its controllers are there, else the v1 memory and cpu hierarchies), so one visitor's miner cannot starve the
// others. Where the hub may not make cgroups (not root, read-only /sys/fs/cgroup), memory falls back to RLIMIT_AS
// (per process, address space rather than resident memory) and cpu_limit is not enforced; isolationLine() says which.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = '/sys/fs/cgroup';
// Under the hub's own cgroup, not the hierarchy's root: servers stay inside whatever limits the hub itself runs under
// (a systemd unit, a container), and a hub not at the root only has write access to its own subtree anyway.
const PARENT = 'nodehub';
const CFS_PERIOD_US = 100_000;

const UNITS: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** traitlets' ByteSpecification (a number, or `512M`, `1.5G`) as bytes; null for no limit. */
export function parseMemLimit(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)([KMGT])$/.exec(value) : null;
  if (m) return Math.floor(Number(m[1]) * UNITS[m[2]!]!);
  throw new Error(`Spawner.mem_limit must be a byte count such as 1073741824 or "1G", got ${JSON.stringify(value)}`);
}

export type CgroupKind = 'v2' | 'v1' | null;

/** The hub's own cgroup path in the hierarchy holding `controller` ('' = the v2 unified one), from /proc/self/cgroup. */
function ownCgroup(controller: string): string {
  try {
    for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, controllers, where] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
      if (where !== undefined && controllers!.split(',').includes(controller)) return where;
    }
  } catch {
    // no /proc: the root
  }
  return '/';
}

/** Where the servers' cgroups go: one directory for v2, the memory and cpu ones for v1. */
function parents(kind: 'v2' | 'v1'): string[] {
  if (kind === 'v2') return [path.join(ROOT, ownCgroup(''), PARENT)];
  return ['memory', 'cpu'].map((c) => path.join(ROOT, c, ownCgroup(c), PARENT));
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

let detected: CgroupKind | undefined;

/** Which cgroup interface the hub can use for limits: v2 with memory and cpu, else v1's memory and cpu, else none. */
export function cgroupKind(): CgroupKind {
  if (detected !== undefined) return detected;
  detected = null;
  if (process.getuid?.() !== 0) return detected;
  try {
    const controllers = fs.readFileSync(path.join(ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/);
    if (controllers.includes('memory') && controllers.includes('cpu') && writable(path.join(ROOT, ownCgroup('')))) return (detected = 'v2');
  } catch {
    // not a pure v2 machine: the v1 hierarchies own the controllers (a hybrid's /sys/fs/cgroup/unified has none)
  }
  if (writable(path.join(ROOT, 'memory', ownCgroup('memory'))) && writable(path.join(ROOT, 'cpu', ownCgroup('cpu')))) detected = 'v1';
  return detected;
}

/** How the limits are enforced here, for the start-up line; '' when none is configured. */
export function describeLimits(memLimit: number | null, cpuLimit: number | null): string {
  if (memLimit === null && cpuLimit === null) return '';
  const kind = cgroupKind();
  const parts: string[] = [];
  if (memLimit !== null) parts.push(kind ? `mem_limit ${memLimit} bytes via cgroup ${kind} memory` : `mem_limit ${memLimit} bytes via RLIMIT_AS per process (no cgroups the hub may write)`);
  if (cpuLimit !== null) parts.push(kind ? `cpu_limit ${cpuLimit} cores via cgroup ${kind} cpu quota` : `cpu_limit ${cpuLimit} NOT enforced (no cgroups the hub may write)`);
  return parts.join('; ');
}

/** One server's cgroup: created before its process starts, the process put in at once, removed after it ended. */
export class ServerCgroup {
  readonly name: string;
  /** The cgroup.procs files the server's pid goes into (one for v2, one per hierarchy for v1). */
  readonly procs: string[];
  readonly #dirs: string[];

  private constructor(name: string, dirs: string[]) {
    this.name = name;
    this.#dirs = dirs;
    this.procs = dirs.map((d) => path.join(d, 'cgroup.procs'));
  }

  /** A cgroup for the limits, or null when there is nothing to limit or no cgroups the hub may use. */
  static create(memLimit: number | null, cpuLimit: number | null): ServerCgroup | null {
    const kind = cgroupKind();
    if (!kind || (memLimit === null && cpuLimit === null)) return null;
    const name = `server-${randomBytes(8).toString('hex')}`;
    const group = ServerCgroup.open(name)!;
    try {
      if (kind === 'v2') {
        const parent = path.dirname(group.#dirs[0]!);
        fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
        // controllers must be handed down at every level before a child can use them; a hub cgroup that holds
        // processes (the hub) cannot hand them down (v2's no-internal-processes rule), which fails here
        enable(path.join(path.dirname(parent), 'cgroup.subtree_control'));
        enable(path.join(parent, 'cgroup.subtree_control'));
        const dir = group.#dirs[0]!;
        fs.mkdirSync(dir, { mode: 0o755 });
        if (memLimit !== null) {
          fs.writeFileSync(path.join(dir, 'memory.max'), String(memLimit));
          tryWrite(path.join(dir, 'memory.swap.max'), '0');
        }
        if (cpuLimit !== null) fs.writeFileSync(path.join(dir, 'cpu.max'), `${Math.max(1000, Math.round(cpuLimit * CFS_PERIOD_US))} ${CFS_PERIOD_US}`);
      } else {
        const [mem, cpu] = group.#dirs as [string, string];
        fs.mkdirSync(mem, { recursive: true, mode: 0o755 });
        fs.mkdirSync(cpu, { recursive: true, mode: 0o755 });
        if (memLimit !== null) {
          fs.writeFileSync(path.join(mem, 'memory.limit_in_bytes'), String(memLimit));
          // where swap accounting is on, swap counts too (else the limit only moves the miner's pages to swap)
          tryWrite(path.join(mem, 'memory.memsw.limit_in_bytes'), String(memLimit));
        }
        if (cpuLimit !== null) {
          fs.writeFileSync(path.join(cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
          fs.writeFileSync(path.join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(cpuLimit * CFS_PERIOD_US))));
        }
      }
    } catch (err) {
      group.remove();
      throw new Error(`Could not set up the cgroup for Spawner.mem_limit / cpu_limit: ${(err as Error).message}`);
    }
    return group;
  }

  /** The cgroup `name` a previous start made (saved in the server's state), for removal after a hub restart. */
  static open(name: string): ServerCgroup | null {
    const kind = cgroupKind();
    if (!kind || !/^server-[0-9a-f]{16}$/.test(name)) return null;
    const dirs = parents(kind).map((p) => path.join(p, name));
    return new ServerCgroup(name, dirs);
  }

  /** Moves `pid` in; the server's children (kernels, terminals) then start inside. */
  add(pid: number): void {
    for (const file of this.procs) fs.writeFileSync(file, String(pid));
  }

  /** SIGKILLs whatever is still inside, then removes the cgroup; false if it could not (yet) be removed. */
  remove(): boolean {
    let removed = true;
    for (const dir of this.#dirs) {
      for (const pid of readPids(path.join(dir, 'cgroup.procs'))) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      try {
        fs.rmdirSync(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') removed = false;
      }
      try {
        fs.rmdirSync(path.dirname(dir)); // the parent too once no server uses it (EBUSY while one does)
      } catch {
        // in use, or gone
      }
    }
    return removed;
  }
}

function readPids(file: string): number[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function enable(subtreeControl: string): void {
  const on = fs.readFileSync(subtreeControl, 'utf8').split(/\s+/);
  const missing = ['memory', 'cpu'].filter((c) => !on.includes(c));
  if (missing.length) fs.writeFileSync(subtreeControl, missing.map((c) => `+${c}`).join(' '));
}

function tryWrite(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text);
  } catch {
    // the knob is optional (no swap accounting on this kernel)
  }
}
