// Which JupyterHub version a starting jupyterhub-singleuser is told (docs/differences.md, "hub version").
//
// Every jupyterhub-singleuser (3.x, 4.x, 5.x) makes one request to the hub before it serves: `GET
// $JUPYTERHUB_API_URL`, without token or cookie, and compares the answer's X-JupyterHub-Version with its own version
// (jupyterhub/_version.py `_check_version`): 3.x and 4.x warn unless major.minor match, 5.x unless the major matches.
// No one value satisfies all three, so that one request, and only it, is answered with the version the server itself
// runs, when the hub can tell it:
// - the version: asked, when the server is launched, of the Python interpreter Spawner.cmd runs with (the command
//   itself, or its `#!` line) in the server's interpreter environment; once per interpreter and environment. A command
//   that is no Python program (a shell wrapper) is learned instead from the X-JupyterHub-Version its servers answer
//   the readiness check with, so from its second start on.
// - the caller: the connection's client end, looked up by its four addresses in the kernel's socket table, must be
//   held (under the server's uid) by the process of a local server this hub launched, or one of its descendants, whose
//   probe has not come yet and which answered the readiness check less than a minute ago, if at all.
// Everyone else (scripts, health checks, the same server's later requests and its user code) gets JUPYTERHUB_VERSION.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { childProcess } from '../../util/builtins.ts';
import type { Logger } from '../../util/log.ts';
import { JUPYTERHUB_VERSION } from '../../util/version.ts';
import { socketHeldBy } from './listener.ts';
import { establishedSocket, hexPort, type ClientSocket } from './socket-table.ts';
import { firstLine, onPath } from './executables.ts';

const PYTHON = /^python[0-9.]*$/;
/** What chooses the interpreter's sys.path (and nothing of a spawn's secrets): the key the answers are cached by. */
const INTERPRETER_ENV = /^(PATH|PYTHON.*)$/;
const VERSION = /^[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$/;
const ASK_TIMEOUT_MS = 15_000;
const ASK = 'from jupyterhub._version import __version__; print(__version__)';
/** A singleuser probes as it starts, at the latest moments after it first answers the readiness check (its event loop
 *  first runs for the probe); a server that has not probed this long after it answered is no singleuser. */
const PROBE_GRACE_MS = 60_000;

interface Expected {
  pid: number;
  /** The uid its processes run as, so that only a connection of that uid makes the hub read their descriptors. */
  uid: number | null;
  version: Promise<string | null>;
  /** What the probe was answered; null until it came. */
  answered: string | null;
  /** What the server answered the readiness check with; undefined until then. */
  reported?: string | null;
  /** Logs a disagreement once both are known. */
  compare(): void;
}

/** Servers whose probe has not come yet, by pid. Process-wide: a pid is one process whichever hub launched it. */
const expected = new Map<number, Expected>();
/** Interpreter + environment → the jupyterhub version it imports (null: none, or it could not be asked). */
const asked = new Map<string, Promise<string | null>>();
/** Command + environment → the version its servers reported, for commands whose interpreter cannot be asked. */
const learned = new Map<string, string>();

export interface VersionProbe {
  /** The X-JupyterHub-Version the server answered its readiness check with (the hub's side of the comparison). */
  reported(version: string | null): void;
  /** The server is gone or stopping: a probe from its pid is no longer expected. */
  forget(): void;
}

/** Registers a server's process before it runs, so that its start-up probe is answered with its own version. */
export function expectVersionProbe(
  pid: number, file: string, env: Record<string, string>, runAs: { uid: number; gid: number } | null, who: string, log: Logger,
): VersionProbe {
  const interpreterEnv = Object.fromEntries(Object.entries(env).filter(([k]) => INTERPRETER_ENV.test(k)).sort());
  const python = interpreterOf(file, interpreterEnv.PATH ?? '');
  const commandKey = JSON.stringify([file, interpreterEnv]);
  let version: Promise<string | null>;
  if (python) {
    const key = JSON.stringify([python, interpreterEnv]);
    let answer = asked.get(key);
    if (!answer) {
      answer = askVersion(python, interpreterEnv, runAs);
      asked.set(key, answer);
      void answer.then((v) => log.debug(`${python} imports jupyterhub ${v ?? '(none)'}; its servers' version probes are answered ${v ?? JUPYTERHUB_VERSION}`));
    }
    version = answer;
  } else {
    version = Promise.resolve(learned.get(commandKey) ?? null);
  }
  const entry: Expected = {
    pid, uid: runAs?.uid ?? process.getuid?.() ?? null, version, answered: null,
    compare() {
      const { answered, reported } = entry;
      if (!answered || !reported || answered === reported) return;
      log.info(`Server ${who} runs jupyterhub-singleuser ${reported} but its version probe was answered ${answered} ` +
        `(${python ? `${python} imports another jupyterhub for the hub` : `${file} is no Python program the hub can ask`}); ` +
        'it may have logged a version warning');
    },
  };
  expected.set(pid, entry);
  const forget = () => {
    if (expected.get(pid) === entry) expected.delete(pid);
  };
  return {
    reported(header) {
      const reportedVersion = header || null;
      // JupyterHub's hub warns here when the server's version differs from its own; this hub answers each server with
      // its own version, so a difference only matters if the server was told something else.
      log.debug(`Server ${who} reports jupyterhub-singleuser ${reportedVersion ?? '(no version header)'}`);
      entry.reported = reportedVersion;
      setTimeout(forget, PROBE_GRACE_MS).unref();
      if (!python && reportedVersion && VERSION.test(reportedVersion)) learned.set(commandKey, reportedVersion);
      entry.compare();
    },
    forget,
  };
}

/**
 * The version for an untokened `GET /hub/api` on `socket`: the server's own, when the request is the start-up probe
 * of a local server this process launched, else JUPYTERHUB_VERSION.
 */
export async function versionForProbe(socket: Socket): Promise<string> {
  if (expected.size === 0) return JUPYTERHUB_VERSION;
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (!remoteAddress || !localAddress || !remotePort || !localPort || !isThisHost(remoteAddress)) return JUPYTERHUB_VERSION;
  const client = await clientSocket(remoteAddress, remotePort, localAddress, localPort);
  if (!client) return JUPYTERHUB_VERSION;
  const inodes = new Set([client.inode]);
  for (const entry of expected.values()) {
    if (entry.uid !== null && entry.uid !== client.uid) continue;
    if (socketHeldBy(entry.pid, inodes) !== true) continue;
    expected.delete(entry.pid);
    const v = (await entry.version) ?? JUPYTERHUB_VERSION;
    entry.answered = v;
    entry.compare();
    return v;
  }
  return JUPYTERHUB_VERSION;
}

/** The Python interpreter that runs `file`: the file itself, or its `#!` line (directly or through env). */
function interpreterOf(file: string, searchPath: string): string | null {
  const exe = onPath(file, searchPath);
  if (!exe) return null;
  if (PYTHON.test(path.basename(exe))) return exe;
  const m = /^#!\s*(\/\S+)(?:[ \t]+(\S+))?[ \t]*\r?$/.exec(firstLine(exe));
  if (!m) return null;
  if (PYTHON.test(path.basename(m[1]!))) return m[1]!;
  if (path.basename(m[1]!) === 'env' && m[2] && PYTHON.test(m[2])) return onPath(m[2], searchPath);
  return null;
}

/** Runs the interpreter once, as the server's uid (its PYTHONPATH may name what that user can write), from `/`, without
 *  a user site, with only the interpreter's variables of the server's environment. */
function askVersion(python: string, env: Record<string, string>, runAs: { uid: number; gid: number } | null): Promise<string | null> {
  const opts = { cwd: '/', env, timeout: ASK_TIMEOUT_MS, maxBuffer: 4096, ...(runAs ?? {}) };
  return new Promise((resolve) => {
    childProcess.execFile(python, ['-s', '-c', ASK], opts, (err, stdout) => {
      const v = String(stdout).trim();
      resolve(!err && VERSION.test(v) ? v : null);
    });
  });
}

/** A local server reaches the hub from one of this host's addresses; anything else is not worth reading /proc for. */
function isThisHost(address: string): boolean {
  const a = address.replace(/^::ffff:(?=\d+\.)/i, '');
  if (a === '::1' || a.startsWith('127.')) return true;
  return Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.address === a));
}

/** The client end of the connection remote → local, from /proc/net/tcp{,6}; null when not found. */
async function clientSocket(remote: string, remotePort: number, local: string, localPort: number): Promise<ClientSocket | null> {
  const r = addressBytes(remote);
  const l = addressBytes(local);
  if (!r || !l) return null;
  // the client's socket has the client's address as its local one
  const want = (family: 4 | 6) => {
    const [a, b] = [procHex(r, family), procHex(l, family)];
    return a && b ? `${a}:${hexPort(remotePort)} ${b}:${hexPort(localPort)}` : null;
  };
  for (const [table, family] of [['/proc/net/tcp', 4], ['/proc/net/tcp6', 6]] as const) {
    const pair = want(family);
    if (pair) {
      const found = await establishedSocket(table, pair);
      if (found) return found;
    }
  }
  return null;
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; null if unparsable. */
function addressBytes(address: string): number[] | null {
  const a = address.replace(/%.*$/, '');
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(a);
  if (v4) return v4.slice(1).map(Number);
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const groups = halves.map((h) => (h ? h.split(':') : []));
  const missing = 8 - groups.reduce((n, g) => n + g.length, 0);
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const all = halves.length === 2 ? [...groups[0]!, ...Array<string>(missing).fill('0'), ...groups[1]!] : groups[0]!;
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  const bytes = all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/** The kernel prints an address as 32-bit words in host byte order; IPv4 appears in tcp6 as IPv4-mapped. */
function procHex(bytes: number[], family: 4 | 6): string | null {
  if (family === 4 && bytes.length !== 4) return null;
  const full = family === 6 && bytes.length === 4 ? [...Array<number>(10).fill(0), 0xff, 0xff, ...bytes] : bytes;
  const little = os.endianness() === 'LE';
  let out = '';
  for (let i = 0; i < full.length; i += 4) {
    const word = full.slice(i, i + 4);
    for (const b of little ? word.reverse() : word) out += b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}
