// Resource quantities ("500m", "2", "1.5Gi", "512M", "1e3") as numbers, for the scheduler's fit check and the
// API's requests <= limits rule.

const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The numeric value, or null when the text is not a quantity. */
export function parseQuantity(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'string') return null;
  const m = QUANTITY.exec(value.trim());
  if (!m) return null;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  return base * SUFFIX[m[3] ?? ''];
}

/** Sum of resource maps (missing or unparsable entries count as 0). */
export function addResources(into: Record<string, number>, add: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(add ?? {})) into[name] = (into[name] ?? 0) + (parseQuantity(value) ?? 0);
}

/** A container's effective requests: its requests, with limits standing in for requests it does not give. */
export function containerRequests(container: any): Record<string, number> {
  const out: Record<string, number> = {};
  const limits = container?.resources?.limits ?? {};
  const requests = { ...limits, ...(container?.resources?.requests ?? {}) };
  addResources(out, requests);
  return out;
}

/** What a pod asks of a node: the sum over containers, or the largest init container if that is more. */
export function podRequests(pod: any): Record<string, number> {
  const total: Record<string, number> = {};
  for (const c of pod?.spec?.containers ?? []) addResources(total, containerRequests(c));
  for (const c of pod?.spec?.initContainers ?? []) {
    for (const [name, value] of Object.entries(containerRequests(c))) total[name] = Math.max(total[name] ?? 0, value);
  }
  return total;
}
