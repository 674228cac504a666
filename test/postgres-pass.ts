// The files the suite's PostgreSQL pass runs again with every hub on a PostgreSQL database of its own
// (NODEHUB_TEST_DB=postgresql, the `postgresql` project of vitest.config.ts; docs/database.md, "Tests").
// The rule: a hub-level file that drives the store through a hub — logins, spawns, the API's users, tokens, groups,
// services and roles, restarts and adoption, reload and handover, the culler, the queue, the warm pool, cross-user
// access. Not: unit files (no database), files about processes, the proxy, Kubernetes, Slurm or pages (time without
// store cases), and the PostgreSQL files themselves (hub-postgres*, store-contract), which run PostgreSQL anyway.
export const POSTGRES_PASS: string[] = [
  // logins
  'auth-generic-oauth', 'visitor-password',
  // spawns and the REST API's records
  'hub-api-servers', 'hub-api-tokens-groups', 'hub-services', 'hub-authz', 'hub-users-listing', 'hub-protocol-api',
  'pages-tokens', 'security-attacks-cross-user',
  // restarts, adoption, reload and handover
  'hub-restart', 'queue-restart', 'restart-reload', 'restart-reload-handover',
  // the culler, the spawn queue, the warm pool
  'hub-culler', 'visitor-queue', 'visitor-pool', 'profile-options-pool',
].map((name) => `test/${name}.test.ts`);
