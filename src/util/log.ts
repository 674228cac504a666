// A tiny levelled logger writing JupyterHub-style lines to stderr. Secrets never reach it: callers log names, not tokens.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const letter: Record<Level, string> = { debug: 'D', info: 'I', warn: 'W', error: 'E' };

export interface Logger {
  debug(msg: string, ...extra: unknown[]): void;
  info(msg: string, ...extra: unknown[]): void;
  warn(msg: string, ...extra: unknown[]): void;
  error(msg: string, ...extra: unknown[]): void;
  child(name: string): Logger;
}

let threshold = order.info;
export function setLogLevel(level: string): void {
  const l = level.toLowerCase() as Level;
  threshold = order[l] ?? order.info;
}

export function createLogger(name = 'nodehub'): Logger {
  const write = (level: Level, msg: string, extra: unknown[]) => {
    if (order[level] < threshold) return;
    const ts = new Date().toISOString().replace('T', ' ').slice(0, 23);
    const tail = extra.map((e) => (e instanceof Error ? e.stack ?? e.message : typeof e === 'string' ? e : JSON.stringify(e)));
    process.stderr.write(`[${letter[level]} ${ts} ${name}] ${msg}${tail.length ? ' ' + tail.join(' ') : ''}\n`);
  };
  return {
    debug: (m, ...e) => write('debug', m, e),
    info: (m, ...e) => write('info', m, e),
    warn: (m, ...e) => write('warn', m, e),
    error: (m, ...e) => write('error', m, e),
    child: (n) => createLogger(`${name}.${n}`),
  };
}
