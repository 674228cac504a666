// URL -> (resource, namespace, name, subresource, verb) for the REST paths of the API server.
import { pathNotFound, methodNotAllowed } from './errors.ts';
import { findResource, type ResourceDef } from './resources.ts';

export interface Route {
  resource: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** RBAC verb: get, list, watch, create, update, patch, delete, deletecollection */
  verb: string;
  watch: boolean;
}

const SUBRESOURCES: Record<string, string[]> = {
  pods: ['log', 'status', 'eviction'],
  daemonsets: ['status'],
};

export function route(method: string, path: string, query: URLSearchParams): Route {
  const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group = '';
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else throw pathNotFound();

  let namespace: string | undefined;
  let plural: string;
  let name: string | undefined;
  let subresource: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    [plural, name, subresource] = rest.slice(2);
    if (rest.length > 5) throw pathNotFound();
  } else {
    [plural, name, subresource] = rest;
    if (rest.length > 3 || !plural) throw pathNotFound();
  }
  const resource = findResource(group, version, plural);
  if (!resource) throw pathNotFound();
  if (namespace !== undefined && !resource.namespaced) throw pathNotFound();
  // a named namespaced object needs its namespace in the path
  if (resource.namespaced && name !== undefined && namespace === undefined) throw pathNotFound();
  if (subresource !== undefined && !(SUBRESOURCES[plural] ?? []).includes(subresource)) throw pathNotFound();

  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  let verb: string;
  switch (method) {
    case 'GET':
      verb = name === undefined ? (watch ? 'watch' : 'list') : 'get';
      break;
    case 'POST':
      if (name !== undefined && subresource !== 'eviction') throw methodNotAllowed();
      if (name === undefined && namespace === undefined && resource.namespaced) throw methodNotAllowed();
      verb = 'create';
      break;
    case 'PUT':
      if (name === undefined) throw methodNotAllowed();
      verb = 'update';
      break;
    case 'PATCH':
      if (name === undefined) throw methodNotAllowed();
      verb = 'patch';
      break;
    case 'DELETE':
      if (name === undefined && namespace === undefined && resource.namespaced) throw methodNotAllowed();
      verb = name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      throw methodNotAllowed();
  }
  if (subresource === 'log' && method !== 'GET') throw methodNotAllowed();
  if (subresource === 'eviction' && method !== 'POST') throw methodNotAllowed();
  return { resource, namespace, name, subresource, verb, watch: verb === 'watch' };
}
