// The public surface of the spawner package: the Spawner interface, its registry of built-in plug-ins, and what the
// plug-ins share (the server's environment, the readiness check).
export type { ProgressEvent, ServerSpec, Spawner, SpawnerClass, SpawnerConfig, SpawnerInit } from './types.ts';
export { registerSpawner, resolveSpawnerClass, spawnerClasses } from './registry.ts';
export { buildServerEnv, DEFAULT_ENV_KEEP, expandTemplate, type UserEnv } from './env.ts';
export { waitForHttp, type ReadinessResult, type WaitOptions } from './readiness.ts';
export { LocalProcessSpawner, localProcessSpawnerClass } from './local/index.ts';
