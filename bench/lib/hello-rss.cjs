// For scale beside the idle-RSS row: a hello-world server on the same Node, idle 2 s after answering one request, as
// the hubs are read. `node hello-rss.cjs http` uses node:http alone, `fastify` the framework the hub is built on.
// Prints its VmRSS in MiB. CommonJS, so that no type stripping or ES module machinery adds to the figure.
const kind = process.argv[2];
// The request goes through node:http, not fetch, which would load undici into the process being measured.
const onListen = (port) => {
  require('node:http').get(`http://127.0.0.1:${port}/`, (res) => {
    res.resume();
    res.on('end', () => setTimeout(() => {
      process.stdout.write(`${(process.memoryUsage().rss / 2 ** 20).toFixed(1)}\n`);
      process.exit(0);
    }, 2000));
  });
};
if (kind === 'fastify') {
  const app = require('fastify')();
  app.get('/', async () => 'hello');
  app.listen({ port: 0, host: '127.0.0.1' }).then(() => onListen(app.server.address().port));
} else if (kind === 'http') {
  const server = require('node:http').createServer((req, res) => res.end('hello'));
  server.listen(0, '127.0.0.1', () => onListen(server.address().port));
} else {
  process.stderr.write('usage: hello-rss.cjs http|fastify\n');
  process.exit(2);
}
