// LocalProcessSpawner: each server a local process (optionally forked from a preloading fork server), as JupyterHub's
// LocalProcessSpawner, with nodehub's per-user uids and home directories.
export { LocalProcessSpawner } from './spawner.ts';
export { localProcessSpawnerClass } from './class.ts';
