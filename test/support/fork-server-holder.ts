// A stand-in hub for the fork server adoption tests: starts a preloading fork server for jupyterhub-singleuser that,
// if this process dies without a goodbye, waits at argv[2] for argv[3] seconds; prints the server's pid; on SIGTERM
// closes it cleanly (the goodbye) and exits; otherwise stays until killed.
import { ForkServer } from '../../src/spawner/local/preload/fork-server.ts';
import { preloadTarget } from '../../src/spawner/local/preload/servers.ts';

const [adoptPath, linger] = process.argv.slice(2);
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const target = preloadTarget('jupyterhub-singleuser', env);
if (!target) throw new Error('no jupyterhub-singleuser on PATH');
const server = await ForkServer.start({ ...target, app: '', env, readyTimeoutMs: 60_000, adoptPath, lingerS: Number(linger) });
const keep = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => {
  clearInterval(keep);
  void server.close().then(() => process.exit(0));
});
// only now: a SIGTERM sent as soon as the pid is read must find the handler in place
process.stdout.write(`${server.pid}\n`);
