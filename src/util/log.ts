// The hub's levelled logger, on pino (the logger fastify itself uses). Lines go to stderr in JupyterHub's shape,
// `[I 2024-01-01 12:00:00.123 nodehub spawner] message` (JupyterHub prints `JupyterHub module:line` where nodehub prints
// its name and the component), or as one JSON object a line with JupyterHub.log_style = 'json'.
// Secrets never reach it: callers log names, not tokens, and the access log scrubs URLs and headers (hub/access-log.ts).
import pino from 'pino';
import type { Logger as Pino } from 'pino';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

export interface Logger {
  debug(msg: string, ...extra: unknown[]): void;
  info(msg: string, ...extra: unknown[]): void;
  warn(msg: string, ...extra: unknown[]): void;
  error(msg: string, ...extra: unknown[]): void;
  child(name: string): Logger;
}

const letter: Record<number, string> = { 10: 'T', 20: 'D', 30: 'I', 40: 'W', 50: 'E', 60: 'C' };
const NAME = Symbol('nodehub.logName');
const ROOT = 'nodehub';

let level: Level = 'info';
let format: LogFormat = 'text';
// Loggers made before the level or format is set (module-level ones) pick up the new root on their next line.
let generation = 0;
let root: Pino | null = null;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** Local time as JupyterHub's `%Y-%m-%d %H:%M:%S.mmm`. */
function stamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// Lines are written through process.stderr.write (not a raw fd), so whatever holds stderr, a test included, sees every
// one; but in batches, once per turn of the event loop: a write per line made the access log cost a busy hub ~40 % of
// its login rate (bench/hub.ts). Whatever is pending goes out when the process exits.
let pending = '';
let flushQueued = false;
function flush(): void {
  flushQueued = false;
  if (pending === '') return;
  const out = pending;
  pending = '';
  process.stderr.write(out);
}
function writeLine(line: string): void {
  pending += line;
  if (pending.length > 65_536) return flush();
  if (!flushQueued) {
    flushQueued = true;
    setImmediate(flush);
  }
}
process.on('exit', flush);

const jsonStream = { write: (line: string) => writeLine(line) };

// Text lines are built from the metadata pino hands a stream that asks for it, so no JSON is parsed back.
const textStream = {
  [pino.symbols.needsMetadataGsym]: true as const,
  lastLevel: 0,
  lastMsg: '' as string | undefined,
  lastObj: {} as Record<string, unknown>,
  lastLogger: null as unknown as Pino & { [NAME]?: string },
  lastTime: '',
  write(): void {
    const name = this.lastLogger?.[NAME] ?? ROOT;
    const component = name === ROOT ? 'hub' : name.startsWith(`${ROOT}.`) ? name.slice(ROOT.length + 1) : name;
    const err = this.lastObj?.err;
    const tail = err instanceof Error ? `\n${err.stack ?? err.message}` : '';
    writeLine(`[${letter[this.lastLevel] ?? 'I'} ${stamp(new Date())} ${ROOT} ${component}] ${this.lastMsg ?? ''}${tail}\n`);
  },
};

function rootLogger(): Pino {
  root ??= pino(
    {
      level,
      base: undefined,
      timestamp: format === 'json' ? pino.stdTimeFunctions.isoTime : false,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'json' ? jsonStream : textStream,
  );
  return root;
}

function reset(): void {
  root = null;
  generation++;
}

/** Python-ish names from JupyterHub.log_level (the config trait has already mapped WARNING, CRITICAL and numbers). */
export function setLogLevel(name: string): void {
  const l = name.toLowerCase();
  level = l === 'debug' || l === 'warn' || l === 'error' ? l : 'info';
  reset();
}

export function setLogFormat(f: string): void {
  format = f === 'json' ? 'json' : 'text';
  reset();
}

/** Both settings from the JupyterHub section, as the hub and the command line apply them. */
export function configureLogging(hub: { log_level: string; log_style: string }): void {
  setLogLevel(hub.log_level);
  setLogFormat(hub.log_style);
}

/** A pino logger under the root, named for the text format's component column; fastify takes one of these. */
export function pinoLogger(name: string): Pino {
  const child = rootLogger().child(format === 'json' ? { name } : {}) as Pino & { [NAME]?: string };
  child[NAME] = name;
  return child;
}

/** Extras as the old logger printed them: an Error goes to pino's `err` (stack in the text line), the rest joins msg. */
function emit(p: Pino, lvl: Level, msg: string, extra: unknown[]): void {
  if (!p.isLevelEnabled(lvl)) return;
  let err: Error | undefined;
  const words: string[] = [];
  for (const e of extra) {
    if (e instanceof Error && !err) err = e;
    else words.push(e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));
  }
  const text = words.length ? `${msg} ${words.join(' ')}` : msg;
  if (err) p[lvl]({ err }, text);
  else p[lvl](text);
}

export function createLogger(name = ROOT): Logger {
  let gen = -1;
  let p: Pino;
  const current = () => {
    if (gen !== generation) {
      p = pinoLogger(name);
      gen = generation;
    }
    return p;
  };
  return {
    debug: (m, ...e) => emit(current(), 'debug', m, e),
    info: (m, ...e) => emit(current(), 'info', m, e),
    warn: (m, ...e) => emit(current(), 'warn', m, e),
    error: (m, ...e) => emit(current(), 'error', m, e),
    child: (n) => createLogger(`${name}.${n}`),
  };
}
