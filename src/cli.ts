// The `nodehub` command: read the command line and the configuration, then start the hub or run a subcommand.
// Configuration and usage mistakes exit 2 with one line on stderr; anything else that stops start-up exits 1.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { parseCliArgs, usage } from './config/argv.ts';
import type { CliArgs } from './config/argv.ts';
import type { RunningHub } from './hub/start.ts';
import { ConfigError, generateConfig, loadConfig } from './config/index.ts';
import { configureLogging } from './util/log.ts';

const defaultConfigFile = 'nodehub_config.yaml';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Like JupyterHub with jupyterhub_config.py: an explicit file, else $NODEHUB_CONFIG, else the usual name if present. */
function configFile(args: CliArgs): string | null | undefined {
  if (args.file !== undefined) return args.file;
  if (process.env.NODEHUB_CONFIG) return undefined;
  return existsSync(resolve(defaultConfigFile)) ? defaultConfigFile : null;
}

function writeGeneratedConfig(args: CliArgs): number {
  const file = args.file ?? defaultConfigFile;
  if (/\.(py|mjs|js|json)$/i.test(file)) {
    // A jupyterhub_config.py full of YAML would fail the next start; say so now.
    throw new ConfigError(`--generate-config writes YAML; name a .yaml file instead of ${file}`);
  }
  if (existsSync(file) && !args.yes) {
    process.stderr.write(`nodehub: ${file} already exists; add -y to overwrite it\n`);
    return 1;
  }
  writeFileSync(file, generateConfig(), { mode: 0o600 });
  process.stdout.write(`Wrote the default configuration to ${file}\n`);
  return 0;
}

/** Closes the hub once on SIGINT/SIGTERM; a second signal while closing gives up at once. */
function closeOnSignals(hub: { close(): Promise<void>; terminate(): Promise<void> }): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    process.stderr.write(`nodehub: received ${signal}, shutting down\n`);
    (signal === 'SIGTERM' ? hub.terminate() : hub.close()).then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`nodehub: error while shutting down: ${(err as Error)?.message ?? err}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** JupyterHub.pid_file: written once running, removed at exit unless a successor has written its own pid there. */
function writePidFile(path: string): void {
  if (!path) return;
  writeFileSync(path, `${process.pid}\n`);
  process.once('exit', () => {
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  });
}

/** Runs the command line; resolves to an exit code, or null when the hub is now running and owns the process. */
export async function run(argv: string[]): Promise<number | null> {
  let debug = argv.includes('--debug');
  try {
    const args = parseCliArgs(argv);
    debug = args.debug;
    if (args.command === 'proxy') {
      const { runProxyCommand } = await import('./proxy/chp/command.ts');
      return await runProxyCommand(args.help ? ['--help', ...args.rest] : args.rest);
    }
    if (args.help) {
      process.stdout.write(usage);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    if (args.generateConfig) return writeGeneratedConfig(args);
    if (args.command === 'token' && args.rest.length !== 1) throw new ConfigError('Usage: nodehub token USER');
    if (args.command === 'upgrade-db' && args.rest.length > 0) throw new ConfigError('Usage: nodehub upgrade-db');
    if (args.command === 'reload' && args.rest.length > 0) throw new ConfigError('Usage: nodehub reload');
    if (args.command === 'start' && args.rest.length > 0) throw new ConfigError(`Unexpected argument ${args.rest[0]}`);

    const file = configFile(args);
    const load = (pin: Record<string, string> = {}) => loadConfig({ file, overrides: { ...args.overrides, ...pin } });
    const config = await load();
    configureLogging(config.hub);
    // Loaded only now: --help, --version, --generate-config and config mistakes answer without the hub's weight.
    const { createUserToken, reloadRunningHub, startHub, upgradeDb } = await import('./hub/commands.ts');
    if (args.command === 'reload') {
      const { code, message } = await reloadRunningHub(config);
      (code ? process.stderr : process.stdout).write(`${code ? 'nodehub: ' : ''}${message}\n`);
      return code;
    }
    if (args.command === 'token') {
      process.stdout.write(`${await createUserToken(config, args.rest[0])}\n`);
      return 0;
    }
    if (args.command === 'upgrade-db') {
      process.stdout.write(`${await upgradeDb(config)}\n`);
      return 0;
    }
    // Signals are handled from before start-up: a SIGTERM that lands while the hub starts (or right after it says it is
    // running) still shuts it down cleanly, once it is up.
    let resolveHub!: (hub: RunningHub) => void;
    closeOnSignals({ close: () => started.then((hub) => hub.close()), terminate: () => started.then((hub) => hub.terminate()) });
    const started = new Promise<RunningHub>((r) => (resolveHub = r));
    // SIGHUP reloads (its default action would end the process); one during start-up waits for the hub.
    process.on('SIGHUP', () => void started.then((hub) => hub.reload()));
    const running = await startHub(config, { loadConfig: load, configFile: file ?? process.env.NODEHUB_CONFIG ?? null });
    writePidFile(config.hub.pid_file);
    // A successor took over and this process has drained: exit, leaving the user servers to it.
    void running.handedOver.then(() => process.exit(0));
    resolveHub(running);
    return null;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nodehub: ${err.message}\n`);
      return 2;
    }
    const e = err as Error;
    process.stderr.write(`nodehub: ${debug && e?.stack ? e.stack : (e?.message ?? String(err))}\n`);
    return 1;
  }
}

/** Entry for the bin script and `node src/cli.ts`. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const code = await run(argv);
  if (code !== null) process.exit(code);
}

if (import.meta.main) {
  // As bin/nodehub.mjs does first thing (see there why): the young generation stays at its first size. From here it is
  // set only after this file's imports have loaded, which still keeps most of the saving.
  setFlagsFromString('--semi-space-growth-factor=1');
  await main();
}
