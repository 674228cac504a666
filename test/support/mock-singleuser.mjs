// A stand-in for jupyterhub-singleuser that boots in milliseconds: binds where JUPYTERHUB_SERVICE_URL says and answers
// under JUPYTERHUB_SERVICE_PREFIX. Plain JavaScript with no imports beyond node: and its handlers (mock-jupyter.mjs), so any test or benchmark can run it as
// `[process.execPath, thisFile]`. Extra CLI args (e.g. --allow-root) are ignored.
//
//   GET <prefix>         302 -> <prefix>tree/
//   GET <prefix>env      200 JSON of this process's environment
//   GET <prefix>proc     200 JSON {cwd, pid, argv, helperPid}
//   GET <prefix>tree/... 200 small HTML page
//   GET <prefix>git-pull        302 -> <prefix>tree/ (an nbgitpuller link, nothing pulled)
//   GET <prefix>notebooks/..., <prefix>lab/... 200 small HTML page (a notebook opened)
//   GET <prefix>api/contents[/...] 200 JSON directory listing or notebook model (empty); PUT 201 with the same
//   POST <prefix>api/kernels       201 JSON {id, name}; GET <prefix>api/kernels lists them
//   WS  <prefix>api/kernels/<id>/channels  answers execute_request with stream(stdout) + idle status, as a kernel would
//                                          (the code is not run: `print(x)` prints x, anything else prints "ok");
//                                          any other message comes back as sent (a ping through the hub)
//   anything else        404
//
// Behaviour switches (environment, for tests):
//   MOCK_IGNORE_SIGTERM=1   ignore SIGINT and SIGTERM (forces the spawner to SIGKILL)
//   MOCK_EXIT_CODE=<n>      print a line and exit with <n> before listening
//   MOCK_DELAY_MS=<n>       wait <n> ms before listening
//   MOCK_HELPER=1           start a long-running child (like a kernel) in the same process group that ignores
//                           SIGINT and SIGTERM, so only a SIGKILL to the group ends it
import { spawn } from 'node:child_process';
import http from 'node:http';
import process from 'node:process';
import { mockJupyter } from './mock-jupyter.mjs';

const serviceUrl = new URL(process.env.JUPYTERHUB_SERVICE_URL || 'http://127.0.0.1:8888/');
const prefix = process.env.JUPYTERHUB_SERVICE_PREFIX || '/';
const host = serviceUrl.hostname.replace(/^\[|\]$/g, '');
const port = Number(serviceUrl.port || 80);

if (process.env.MOCK_EXIT_CODE) {
  console.error(`mock-singleuser: exiting with ${process.env.MOCK_EXIT_CODE} as asked`);
  process.exit(Number(process.env.MOCK_EXIT_CODE));
}

if (process.env.MOCK_IGNORE_SIGTERM === '1') {
  process.on('SIGTERM', () => console.error('mock-singleuser: ignoring SIGTERM'));
  process.on('SIGINT', () => console.error('mock-singleuser: ignoring SIGINT'));
} else {
  // exit promptly and cleanly, as jupyter does on SIGINT/SIGTERM
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
}

const helper = process.env.MOCK_HELPER === '1' ? spawn('sh', ['-c', 'trap "" INT TERM; exec sleep 300'], { stdio: 'ignore' }) : null;

const mock = mockJupyter(prefix, (path, send) => {
  if (path === `${prefix}env`) return send(200, 'application/json', JSON.stringify(process.env)), true;
  if (path === `${prefix}proc`) {
    const info = { cwd: process.cwd(), pid: process.pid, argv: process.argv.slice(2), helperPid: helper?.pid ?? null };
    return send(200, 'application/json', JSON.stringify(info)), true;
  }
  return false;
});
const server = http.createServer(mock.request);
server.on('upgrade', mock.upgrade);

server.on('error', (err) => {
  console.error(`mock-singleuser: ${err.code || ''} ${err.message}`);
  process.exit(1);
});

const listen = () =>
  server.listen(port, host, () => console.error(`mock-singleuser: listening on ${host}:${port}${prefix}`));
const delay = Number(process.env.MOCK_DELAY_MS || 0);
if (delay > 0) setTimeout(listen, delay);
else listen();
