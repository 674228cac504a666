// Many mock single-user servers in one process, so a 1,000-visitor storm fits in memory (a Node mock process costs
// ~24 MiB of PSS, a thousand of them more than this machine has). Each server the hub spawns is bench/lib/byte-relay.c
// (~1 MiB) listening where the hub said (JUPYTERHUB_SERVICE_URL) and relaying every connection here; this process
// answers each /user/<name>/ prefix with the handlers of test/support/mock-jupyter.mjs. The hub's own checks see a
// server process that owns its port, and a stopped or lost relay takes the server and its websockets with it.
//
//   node bench/storm/mux.mjs <port>
import http from 'node:http';
import process from 'node:process';
import { mockJupyter } from '../../test/support/mock-jupyter.mjs';

const servers = new Map(); // prefix → handlers
const mockFor = (url) => {
  const prefix = /^\/user\/[^/?]+\//.exec(url || '')?.[0];
  if (!prefix) return null;
  if (!servers.has(prefix)) servers.set(prefix, mockJupyter(prefix));
  return servers.get(prefix);
};
const server = http.createServer((req, res) => {
  if (req.url === '/count') return res.end(String(servers.size));
  const m = mockFor(req.url);
  if (!m) { res.writeHead(404); return res.end('not a server prefix'); }
  m.request(req, res);
});
server.on('upgrade', (req, socket) => {
  const m = mockFor(req.url);
  if (!m) return socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
  m.upgrade(req, socket);
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.error(`mux: on ${process.argv[2]}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
