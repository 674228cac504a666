// A server's life, apart from how it is run: the lifecycle owner (the only code that changes a server's state), the
// spawn queue, the warm pool, a server's credentials and names, and profile selection. The plug-ins that actually run
// servers live in src/spawner/ and know nothing of this.
export { ServerManager } from './lifecycle.ts';
export { adoptForeignServer } from './foreign.ts';
export { ServerCatchUp } from './catch-up.ts';
export { pendingOf } from './lifecycle-types.ts';
export type { Phase, HubEvent, UserRef, ActiveServer, LifecycleDeps, LifecycleObserver } from './lifecycle-types.ts';
export { ServerPool, type PoolObserver, type PoolDeps } from './pool.ts';
export { SpawnQueue } from './queue.ts';
export { serverPrefix, serverClientId, serverAccessScopes, serverTokenScopes } from './naming.ts';
export { selectProfile, selectUserOptions, selectionKey, effectiveSpawnerConfig, type ProfileSelection } from './profiles.ts';
export { FORM_OPTION_PREFIX, optionFieldName, hasProfileOptions, optionsFromForm } from './profile-form.ts';
