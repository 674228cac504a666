// A small NetworkPolicy evaluator (networking.k8s.io/v1 semantics) for testing what deploy/'s policies let through:
// a connection is allowed when the source's egress and the destination's ingress both allow it, and a direction is
// open for a pod that no policy of that type selects. IPv4 addresses only; IPv6 blocks never match them.

export interface Endpoint {
  ip: string;
  /** Set for pods; absent for addresses outside the cluster (the internet, the metadata service). */
  pod?: { namespace: string; labels: Record<string, string>; namespaceLabels: Record<string, string>; ports?: Record<string, number> };
}

type Labels = Record<string, string>;
interface Selector { matchLabels?: Labels; matchExpressions?: { key: string; operator: string; values?: string[] }[] }
interface Peer { podSelector?: Selector; namespaceSelector?: Selector; ipBlock?: { cidr: string; except?: string[] } }
interface PortRule { port?: number | string; endPort?: number; protocol?: string }
interface Rule { from?: Peer[]; to?: Peer[]; ports?: PortRule[] }
export interface Policy {
  metadata: { namespace?: string };
  spec: { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

export function selects(selector: Selector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    const ok = { In: inValues, NotIn: !inValues, Exists: has, DoesNotExist: !has }[e.operator];
    if (!ok) return false;
  }
  return true;
}

function ipv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return null;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(base);
  if (a === null || b === null) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}

function peerMatches(peer: Peer, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    return inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(other.ip, c));
  }
  if (!other.pod) return false;
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, other.pod.namespaceLabels) : other.pod.namespace === policyNamespace;
  return nsOk && (!peer.podSelector || selects(peer.podSelector, other.pod.labels));
}

function portMatches(rule: PortRule, port: number, protocol: string, target: Endpoint): boolean {
  if ((rule.protocol ?? 'TCP') !== protocol) return false;
  if (rule.port === undefined) return true;
  // A named port means the destination pod's container port of that name; an address outside has none.
  const number = typeof rule.port === 'number' ? rule.port : target.pod?.ports?.[rule.port];
  if (number === undefined) return false;
  return rule.endPort === undefined ? port === number : port >= number && port <= rule.endPort;
}

function ruleAllows(rule: Rule, peers: Peer[] | undefined, other: Endpoint, port: number, protocol: string, target: Endpoint, ns: string) {
  const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(p, other, ns));
  const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((r) => portMatches(r, port, protocol, target));
  return peerOk && portOk;
}

function types(policy: Policy): string[] {
  return policy.spec.policyTypes ?? (policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

interface Connection { other: Endpoint; port: number; protocol: string; target: Endpoint }

/** Whether the policies selecting `self` let the connection through in `direction`. */
function directionAllows(policies: Policy[], self: Endpoint, direction: 'Ingress' | 'Egress', c: Connection): boolean {
  if (!self.pod) return true; // outside the cluster: no policy applies
  const pod = self.pod;
  const applying = policies.filter(
    (p) => (p.metadata.namespace ?? pod.namespace) === pod.namespace && types(p).includes(direction) && selects(p.spec.podSelector, pod.labels),
  );
  if (applying.length === 0) return true;
  return applying.some((p) => {
    const rules = (direction === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? [];
    return rules.some((r) => ruleAllows(r, direction === 'Ingress' ? r.from : r.to, c.other, c.port, c.protocol, c.target, pod.namespace));
  });
}

/** Whether `from` may open a connection to `to` on `port`. */
export function allowed(policies: Policy[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  return (
    directionAllows(policies, from, 'Egress', { other: to, port, protocol, target: to }) &&
    directionAllows(policies, to, 'Ingress', { other: from, port, protocol, target: to })
  );
}
