// Everything that needs @kubernetes/client-node, loaded only when a hub uses the Kubernetes spawner (the client takes
// a fifth of a second to import, which a local-process hub should not pay at every start).
export { KubeSpawner } from './spawner.ts';
export { closeCluster, clusterFor, existingCluster } from './cluster.ts';
export { deleteServerClaim } from './storage.ts';
