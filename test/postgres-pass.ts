// The files the suite's PostgreSQL pass runs again with every hub on a PostgreSQL database of its own
// (NODEHUB_TEST_DB=postgresql, the `postgresql` project of vitest.config.ts; docs/database.md, "Tests").
// The rule: every file that starts a hub through the test support (support/hub.ts, hub-process.ts, k8s-hub.ts, e2e.ts,
// isolation.ts …), whose hubs then keep their data where the pass says (support/postgres.ts hubDbUrl). Found by what
// the file imports, so a new hub-level file is in both passes without anyone listing it. Left out, each for a reason:
// unit files (no hub, no database), and the files below.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const STARTS_A_HUB = /from '\.\/support\/(hub|hub-process|k8s-hub|e2e|isolation|front-visitor|scripted-visitor)(\.ts)?'/;

/** Files that start hubs but are about sqlite itself, or a deployment whose database is a sqlite file: once. */
export const SQLITE_ONLY: Record<string, string> = {
  'readme-start': "the README's run command and its defaults, whose database is a sqlite file",
  'deploy-image': "the image's own hub, with its sqlite file on the image's volume",
  'deploy-hpc-example': "the HPC example's config files, which name sqlite files",
  'security-isolation': "the sqlite file's permissions against the users' servers",
};

/** Files that run once to keep `npm test` within its time: NODEHUB_TEST_PG_ALL=1 runs them on PostgreSQL too. */
export const ONCE_FOR_TIME: Record<string, string> = {
  // What a server process is on this machine (its interpreter and kernels, its fork server, its uid and cgroup limits):
  // the hub keeps the same records of these servers as of any other, and those records are exercised on PostgreSQL by
  // the hub-level files (adoption of preloaded servers after a SIGKILL by security-spawn-kill). Run once, these and
  // the two groups below keep the suite under 15 minutes on two cores.
  'spawner-preload-hub': 'the fork server and its servers\' processes',
  'singleuser-version': "the version a server's interpreter reports",
  'singleuser-kernel': "a real server's kernels",
  'singleuser-browser': 'a real server in Chromium',
  'k8s-spawner-singleuser': "a real server's process in a simulator pod",
  'spawner-uid': "servers' uids and home directories",
  'spawner-uid-hubs': 'two hubs sharing a uid range through lock files',
  'security-isolation-limits': "servers' cgroup limits",
  'security-isolation-nonroot': 'a hub run as an unprivileged user',
  'deploy-hub-start': "the Kubernetes Deployment's own arguments",
  // Journeys in Chromium: the same requests the API and page files make on PostgreSQL, driven through a browser.
  'e2e-visitor': 'a visitor in Chromium', 'e2e-nbgitpuller': 'an nbgitpuller link in Chromium',
  'admin-browser': 'the admin page in Chromium', 'auth-oauth-browser': 'a single sign-on login in Chromium',
  'profile-options-browser': 'the profile form in Chromium',
  // KubeSpawner and the simulator's API (watches, fail-fast, the pre-puller, image versions): the hub's records of pods
  // are exercised on PostgreSQL by k8s-spawner-restart, -lifecycle, -pool, -races and k8s-switch-over.
  'k8s-spawner-failfast': "pods that cannot start, from the API's events", 'k8s-spawner-watch': 'the pod watch',
  'k8s-spawner-informer': "the informer's streams", 'k8s-spawner-prepuller': 'the pre-puller DaemonSet',
  'k8s-spawner-version': "pods' version probes",
};

/** Files that open PostgreSQL themselves, in both passes. */
const POSTGRES_ANYWAY: Record<string, string> = {
  'hub-postgres': 'runs on PostgreSQL in both passes',
  'hub-postgres-restart': 'runs on PostgreSQL in both passes',
};

const dir = new URL('.', import.meta.url).pathname;
const left = { ...SQLITE_ONLY, ...POSTGRES_ANYWAY, ...(process.env.NODEHUB_TEST_PG_ALL === '1' ? {} : ONCE_FOR_TIME) };

export const POSTGRES_PASS: string[] = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts') && !Object.hasOwn(left, f.slice(0, -'.test.ts'.length)))
  .filter((f) => STARTS_A_HUB.test(readFileSync(join(dir, f), 'utf8')))
  .sort()
  .map((f) => `test/${f}`);
