// The hub's levelled logger. Lines go to stderr in JupyterHub's shape,
// `[I 2024-01-01 12:00:00.123 nodehub spawner] message` (JupyterHub prints `JupyterHub module:line` where nodehub prints
// its name and the component), or, with JupyterHub.log_style = 'json', as one JSON object a line through pino (the
// logger fastify itself uses).
// Secrets never reach it: callers log names, not tokens, and the access log scrubs URLs and headers (hub/access-log.ts).
//
// The text format is written here directly, not through pino: every hub request logs a line, and pino's JSON
// serialisation of each (which the text format then ignored), its per-request child loggers and a Date per line cost
// a busy hub CPU on every request. This module loads pino only for the JSON format (fastify still requires it for its
// loggerInstance).
import { createRequire } from 'node:module';
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

const ROOT = 'nodehub';
const NUM: Record<Level | 'trace' | 'fatal', number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const LETTER: Record<number, string> = { 10: 'T', 20: 'D', 30: 'I', 40: 'W', 50: 'E', 60: 'C' };

let level: Level = 'info';
let threshold = NUM.info;
let format: LogFormat = 'text';
// Loggers made before the level or format is set (module-level ones) pick up the new pino root on their next line.
let generation = 0;
let root: Pino | null = null;

const pad = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));
// Local time as JupyterHub's `%Y-%m-%d %H:%M:%S.mmm`, built once per second (the date part) and per millisecond.
let stampMs = -1;
let stampText = '';
let secondAt = -1;
let secondText = '';
function stamp(): string {
  const ms = Date.now();
  if (ms === stampMs) return stampText;
  const second = ms - (ms % 1000);
  if (second !== secondAt) {
    const d = new Date(second);
    secondText = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.`;
    secondAt = second;
  }
  stampMs = ms;
  stampText = secondText + pad3(ms - second);
  return stampText;
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

/** The text format's component column: `hub` for the root, the name below `nodehub.` otherwise. */
function componentOf(name: string): string {
  return name === ROOT ? 'hub' : name.startsWith(`${ROOT}.`) ? name.slice(ROOT.length + 1) : name;
}

function textLine(num: number, component: string, msg: string, err: Error | undefined): void {
  const tail = err ? `\n${err.stack ?? err.message}` : '';
  writeLine(`[${LETTER[num] ?? 'I'} ${stamp()} ${ROOT} ${component}] ${msg}${tail}\n`);
}

/** Extras as the old logger printed them: the first Error goes to the stack tail (pino's `err`), the rest joins msg. */
function split(msg: string, extra: unknown[]): { text: string; err: Error | undefined } {
  if (extra.length === 0) return { text: msg, err: undefined };
  let err: Error | undefined;
  const words: string[] = [];
  for (const e of extra) {
    if (e instanceof Error && !err) err = e;
    else words.push(e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));
  }
  return { text: words.length ? `${msg} ${words.join(' ')}` : msg, err };
}

const requireCjs = createRequire(import.meta.url);

function rootLogger(): Pino {
  if (!root) {
    const pino = requireCjs('pino') as typeof import('pino').default;
    root = pino(
      {
        level,
        base: undefined,
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      { write: (line: string) => writeLine(line) },
    );
  }
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
  threshold = NUM[level];
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

type FastifyLogFn = (first?: unknown, second?: unknown, ...rest: unknown[]) => void;

/** What fastify needs of a logger, writing the text format: pino's call shapes, and a child that is itself (fastify
 *  makes one per request; its bindings never show in the text format). */
function textFastifyLogger(component: string): Pino {
  const at = (num: number): FastifyLogFn => (first, second, ...rest) => {
    if (num < threshold) return;
    let err: Error | undefined;
    let msg: string;
    if (typeof first === 'string') msg = [first, second, ...rest].filter((x) => x !== undefined).map(String).join(' ');
    else {
      if (first instanceof Error) err = first;
      else if (first && typeof first === 'object' && (first as { err?: unknown }).err instanceof Error) err = (first as { err: Error }).err;
      msg = typeof second === 'string' ? second : err?.message ?? '';
    }
    textLine(num, component, msg, err);
  };
  const logger = {
    get level() {
      return level;
    },
    set level(_: string) {
      // the hub's level is JupyterHub.log_level; fastify's per-route levels are not used
    },
    trace: at(NUM.trace), debug: at(NUM.debug), info: at(NUM.info), warn: at(NUM.warn), error: at(NUM.error),
    fatal: at(NUM.fatal), silent: () => {},
    isLevelEnabled: (l: string) => (NUM[l as Level] ?? Infinity) >= threshold,
    child: () => logger,
  };
  return logger as unknown as Pino;
}

/** A logger fastify takes (loggerInstance): pino under the root in the JSON format, a line writer in the text format. */
export function pinoLogger(name: string): Pino {
  if (format === 'text') return textFastifyLogger(componentOf(name));
  return rootLogger().child({ name });
}

function jsonEmit(p: Pino, lvl: Level, msg: string, extra: unknown[]): void {
  if (!p.isLevelEnabled(lvl)) return;
  const { text, err } = split(msg, extra);
  if (err) p[lvl]({ err }, text);
  else p[lvl](text);
}

export function createLogger(name = ROOT): Logger {
  const component = componentOf(name);
  let gen = -1;
  let p: Pino;
  const json = () => {
    if (gen !== generation) {
      p = rootLogger().child({ name });
      gen = generation;
    }
    return p;
  };
  const at = (lvl: Level) => {
    const num = NUM[lvl];
    return (msg: string, ...extra: unknown[]): void => {
      if (num < threshold) return;
      if (format === 'json') return jsonEmit(json(), lvl, msg, extra);
      const { text, err } = split(msg, extra);
      textLine(num, component, text, err);
    };
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (n) => createLogger(`${name}.${n}`),
  };
}
