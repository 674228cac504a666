// Bearer tokens mapped to identities, and an RBAC-like check with the real 403 message shape.
import { forbidden, unauthorized } from './errors.ts';
import type { Identity, Rule } from './types.ts';

/** What the hub's Role grants (deploy/kubernetes/base/rbac.yaml): pods, per-user claims, events, the image-puller DaemonSet. */
export const HUB_RULES: Rule[] = [
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'create', 'delete'] },
  { apiGroups: [''], resources: ['events'], verbs: ['list', 'watch'] },
  { apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['list', 'watch', 'create', 'update', 'delete'] },
];

export interface Access {
  verb: string;
  group: string;
  /** plural, with "/subresource" when one is addressed */
  resource: string;
  namespace?: string;
  name?: string;
}

function matches(rule: Rule, a: Access): boolean {
  const has = (list: string[], v: string): boolean => list.includes('*') || list.includes(v);
  return (
    has(rule.apiGroups, a.group) &&
    has(rule.resources, a.resource) &&
    has(rule.verbs, a.verb) &&
    (!rule.namespaces || (a.namespace !== undefined && rule.namespaces.includes(a.namespace)))
  );
}

export class Rbac {
  private readonly tokens = new Map<string, Identity>();
  /** when false every request is allowed, with or without a token */
  enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  addToken(token: string, identity: Identity): void {
    this.tokens.set(token, identity);
  }

  /** The identity of an Authorization header; 401 for a missing or unknown token when auth is on. */
  authenticate(header: string | undefined): Identity | null {
    if (!this.enabled) return null;
    const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const identity = m ? this.tokens.get(m[1]) : undefined;
    if (!identity) throw unauthorized();
    return identity;
  }

  authorize(identity: Identity | null, a: Access): void {
    if (!identity || !identity.rules || identity.rules.some((r) => matches(r, a))) return;
    const [plural, sub] = a.resource.split('/');
    const what = a.name ? `${plural}${a.group ? `.${a.group}` : ''} "${a.name}"` : `${plural}${a.group ? `.${a.group}` : ''}`;
    const resource = sub ? `${plural}/${sub}` : plural;
    const scope = a.namespace !== undefined ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    const message = `${what} is forbidden: User "${identity.user}" cannot ${a.verb} resource "${resource}" in API group "${a.group}" ${scope}`;
    throw forbidden(message, plural, a.name, a.group);
  }
}
