// Free TCP ports on loopback. The OS picks the port; we remember what we handed out so two servers started in the
// same run never get the same number while neither has bound it yet.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function probe(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not read the probed port'))));
    });
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await probe(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found on ${host}`);
}
