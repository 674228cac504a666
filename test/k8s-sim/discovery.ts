// Discovery documents (/version, /api, /api/v1, /apis, /apis/<group>[/<version>]) enough for clients and kubectl.
import { GROUPS, RESOURCES, type ResourceDef } from './resources.ts';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function resourceList(groupVersion: string, defs: ResourceDef[]): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of defs) {
    const entry: Record<string, unknown> = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: VERBS };
    if (r.shortNames) entry.shortNames = r.shortNames;
    resources.push(entry);
    if (r.plural === 'pods') {
      resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
      resources.push({ name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    }
    if (r.plural === 'pods' || r.plural === 'daemonsets') {
      resources.push({ name: `${r.plural}/status`, singularName: '', namespaced: true, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

function group(name: string, version: string): Record<string, unknown> {
  const gv = { groupVersion: `${name}/${version}`, version };
  return { name, versions: [gv], preferredVersion: gv };
}

/** The discovery document for a path, or undefined when the path is not a discovery path. */
export function discovery(path: string, serverAddress: string): Record<string, unknown> | undefined {
  if (path === '/version') {
    return {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.0-k8s-sim',
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2025-01-01T00:00:00Z',
      goVersion: 'go1.23.4',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }
  if (path === '/api') {
    return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  }
  if (path === '/api/v1') return resourceList('v1', RESOURCES.filter((r) => r.group === ''));
  if (path === '/apis') {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map((g) => group(g.group, g.version)) };
  }
  for (const g of GROUPS) {
    if (path === `/apis/${g.group}`) return { kind: 'APIGroup', apiVersion: 'v1', ...group(g.group, g.version) };
    if (path === `/apis/${g.group}/${g.version}`) {
      return resourceList(`${g.group}/${g.version}`, RESOURCES.filter((r) => r.group === g.group && r.version === g.version));
    }
  }
  return undefined;
}
