// The one error type for bad configuration. `key` is the full path of the offending key (e.g.
// `JupyterHub.services[0].comand`) so tools and tests can tell what was wrong without parsing the message; it is null
// when the problem is the file itself (missing, unreadable, not YAML).
export class ConfigError extends Error {
  readonly key: string | null;
  constructor(message: string, key: string | null = null) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** A short rendering of a bad value for messages: JSON for data, words for what JSON cannot show. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

/** Edit distance, with a change of letter case costing nothing so `Jupyterhub` finds `JupyterHub` first. */
export function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = row;
  }
  return prev[y.length];
}

/** The known name closest to `name`, or null when nothing is close enough to be a plausible typo. */
export function nearest(name: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    // Short names tolerate fewer edits; otherwise every two-letter typo would "mean" something.
    const limit = Math.max(2, Math.floor(Math.max(name.length, candidate.length) / 3));
    if (d <= limit && d < bestScore) {
      best = candidate;
      bestScore = d;
    }
  }
  return best;
}

/** The message for a key nobody declared, naming the full path, where it came from and the likely intent. */
export function unknownKey(path: string, where: string, suggestion: string | null): ConfigError {
  const hint = suggestion ? `; did you mean ${suggestion}?` : '; run `nodehub --generate-config` to see every key';
  return new ConfigError(`Unknown configuration key ${path}${where}${hint}`, path);
}
