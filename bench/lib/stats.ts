// Order statistics for small samples (15-ish timings per system). Medians and ranges, not means: on a noisy 2-core
// machine one stalled round would drag a mean, while the median of same-run samples stays comparable between systems.

export interface Summary {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

function sorted(samples: readonly number[]): number[] {
  if (samples.length === 0) throw new Error('no samples to summarise');
  for (const s of samples) if (!Number.isFinite(s)) throw new Error(`sample is not a finite number: ${s}`);
  return [...samples].sort((a, b) => a - b);
}

export function median(samples: readonly number[]): number {
  const s = sorted(samples);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100): always one of the samples, never an interpolation between them. */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile out of range: ${p}`);
  const s = sorted(samples);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const s = sorted(samples);
  return { n: s.length, median: median(s), p99: percentile(s, 99), min: s[0]!, max: s[s.length - 1]! };
}

/** Milliseconds for humans: "612 ms", "41.3 ms", "0.82 ms", or seconds from 10 s up. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** "0.62×" style ratio of a value to a baseline; "n/a" when the baseline is missing or zero. */
export function formatRatio(value: number, baseline: number | undefined): string {
  if (baseline === undefined || !Number.isFinite(baseline) || baseline === 0 || !Number.isFinite(value)) return 'n/a';
  return `${(value / baseline).toFixed(2)}×`;
}
