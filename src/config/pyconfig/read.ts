// Reading a jupyterhub_config.py: runner.py executes it once in a python3 subprocess against a recording `c` and
// writes what it assigned as JSON on fd 3; the config's own stdout and stderr go to the hub's log line by line.
import { spawn } from 'node:child_process';
import { dirname, isAbsolute, relative } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { JUPYTERHUB_VERSION } from '../../util/version.ts';
import { createLogger } from '../../util/log.ts';
import { ConfigError } from '../errors.ts';

const runner = fileURLToPath(new URL('./runner.py', import.meta.url));
const log = createLogger('nodehub.config');

/** How long a config file may run; one that waits on the network or loops forever must not hang start-up. */
export const defaultPythonTimeoutMs = 30_000;

export interface PythonConfig {
  content: Record<string, unknown>;
  /** `Class.trait` -> " (in FILE line N)", for messages about that key. */
  where: Map<string, string>;
}

type Site = [file: string, line: number] | null;
interface Reply {
  config?: Record<string, unknown>;
  lines?: Record<string, Site>;
  unsupported?: { key: string; what: string; file: string | null; line: number | null };
  error?: { type: string; message: string; file: string | null; line: number | null; traceback: string };
}

const mjsAdvice =
  'only plain data (str, int, float, bool, None, list, tuple, set, dict) and imported classes carry over; ' +
  'write the configuration as an .mjs module instead, which may export functions, e.g. ' +
  '`export default { Spawner: { pre_spawn_hook: async (spawner) => { ... } } }` (see docs/python-config.md)';

export async function readPythonConfig(
  path: string,
  asGiven: string,
  opts: { env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<PythonConfig> {
  const shown = (file: string | null): string => {
    if (!file || file === path) return asGiven;
    const rel = relative(dirname(path), file);
    return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
  };
  const at = (file: string | null, line: number | null) => (line ? `${shown(file)} line ${line}` : shown(file));
  const reply = await runPython(path, asGiven, opts.env, opts.timeoutMs ?? defaultPythonTimeoutMs);
  if (reply.error) {
    const e = reply.error;
    log.debug(`${asGiven} failed:\n${e.traceback}`);
    throw new ConfigError(`Error in ${at(e.file, e.line)}: ${e.type}: ${e.message}`);
  }
  if (reply.unsupported) {
    const u = reply.unsupported;
    throw new ConfigError(`${u.key} (in ${at(u.file, u.line)}) is ${u.what}, which nodehub cannot take from a .py config: ${mjsAdvice}`, u.key);
  }
  const where = new Map<string, string>();
  for (const [key, site] of Object.entries(reply.lines ?? {})) {
    where.set(key, ` (in ${site ? at(site[0], site[1]) : asGiven})`);
  }
  return { content: reply.config ?? {}, where };
}

function runPython(path: string, asGiven: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // -B: no __pycache__ written next to the config or into nodehub's stand-in package.
    const child = spawn('python3', ['-B', runner, path, '3'], {
      env: { ...env, NODEHUB_JUPYTERHUB_VERSION: JUPYTERHUB_VERSION },
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let exited: number | null | undefined;
    let resultEnded = false;
    let failed = false;
    const fail = (err: ConfigError) => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => {
      fail(new ConfigError(`${asGiven} did not finish within ${timeoutMs / 1000} s; a config file must not wait or loop (it runs once, at start)`));
    }, timeoutMs);
    forward(child.stdout!, (line) => log.info(`${asGiven}: ${line}`));
    forward(child.stderr!, (line) => log.warn(`${asGiven}: ${line}`));
    const result = child.stdio[3] as Readable;
    result.on('data', (chunk: Buffer) => chunks.push(chunk));
    result.on('error', () => {});
    // Done when python3 has exited and its reply is complete; a process the config started may keep stdout open.
    const finish = () => {
      if (failed || exited === undefined || !resultEnded) return;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(JSON.parse(text) as Reply);
      } catch {
        failed = true;
        reject(new ConfigError(`Cannot read ${asGiven}: python3 exited with code ${exited} before finishing it`));
      }
    };
    result.on('end', () => {
      resultEnded = true;
      finish();
    });
    child.on('exit', (code) => {
      exited = code;
      finish();
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      fail(
        new ConfigError(
          err.code === 'ENOENT'
            ? `Reading ${asGiven} needs python3 on PATH, and there is none; install Python 3, or write the configuration as YAML or .mjs`
            : `Cannot run python3 to read ${asGiven}: ${err.message}`,
        ),
      );
    });
  });
}

function forward(stream: Readable, write: (line: string) => void): void {
  stream.on('error', () => {});
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', write);
}
