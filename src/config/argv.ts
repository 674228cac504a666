// The command line, read the way JupyterHub reads its own: a few short aliases, `--Class.trait=value` for everything
// else, and a subcommand word. Parsed by hand because node:util parseArgs cannot accept open-ended `--Class.trait` names.
import { ConfigError, nearest } from './errors.ts';

export interface CliArgs {
  command: 'start' | 'token' | 'upgrade-db' | 'reload' | 'proxy';
  /** Words after the command (the user name for `token`; for `proxy`, everything after it, unparsed). */
  rest: string[];
  file: string | undefined;
  /** `Class.trait` -> text, in the order given (a later flag wins). */
  overrides: Record<string, string>;
  help: boolean;
  version: boolean;
  generateConfig: boolean;
  yes: boolean;
  debug: boolean;
}

/** Short flags that stand for a trait, as JupyterHub's own aliases do. */
export const aliases: Record<string, string> = {
  ip: 'JupyterHub.ip',
  port: 'JupyterHub.port',
  url: 'JupyterHub.bind_url',
  'base-url': 'JupyterHub.base_url',
  db: 'JupyterHub.db_url',
  'log-level': 'JupyterHub.log_level',
};

const commands = ['token', 'upgrade-db', 'reload', 'proxy'] as const;
const flags = ['help', 'version', 'generate-config', 'yes', 'debug', 'config'];

export function parseCliArgs(argv: string[]): CliArgs {
  const args: CliArgs = {
    command: 'start', rest: [], file: undefined, overrides: {},
    help: false, version: false, generateConfig: false, yes: false, debug: false,
  };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const valueOf = (name: string, inline: string | undefined): string => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) throw new ConfigError(`${name} needs a value`);
      return argv[++i];
    };
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') args.help = true;
    else if (arg === '--version') args.version = true;
    else if (arg === '--generate-config') args.generateConfig = true;
    else if (arg === '-y' || arg === '--yes') args.yes = true;
    else if (arg === '--debug') {
      args.debug = true;
      args.overrides['JupyterHub.log_level'] = 'DEBUG';
    } else if (arg === '-f' || arg.startsWith('-f=') || arg === '--config' || arg.startsWith('--config=')) {
      const eq = arg.indexOf('=');
      args.file = valueOf(arg.split('=')[0], eq < 0 ? undefined : arg.slice(eq + 1));
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (aliases[name]) args.overrides[aliases[name]] = valueOf(`--${name}`, inline);
      else if (/^[A-Za-z_]\w*\.\w+$/.test(name)) args.overrides[name] = valueOf(`--${name}`, inline);
      else {
        const near = nearest(name, [...flags, ...Object.keys(aliases)]);
        throw new ConfigError(`Unknown option ${arg}${near ? `; did you mean --${near}?` : ''} (see nodehub --help)`);
      }
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new ConfigError(`Unknown option ${arg} (see nodehub --help)`);
    } else if (arg === 'proxy' && words.length === 0) {
      // configurable-http-proxy's flags (--port, --ip, …) mean other things here; `nodehub proxy` reads its own.
      args.command = 'proxy';
      args.rest = argv.slice(i + 1);
      return args;
    } else words.push(arg);
  }
  if (words.length > 0) {
    const [word, ...rest] = words;
    const command = commands.find((c) => c === word);
    if (!command) {
      const near = nearest(word, commands);
      throw new ConfigError(`Unknown command ${word}${near ? `; did you mean ${near}?` : ''} (see nodehub --help)`);
    }
    args.command = command;
    args.rest = rest;
  }
  return args;
}

export const usage = `Usage: nodehub [options] [command]

A JupyterHub-compatible hub and proxy in one Node process.

Commands:
  (none)                 start the hub
  token USER             print a new API token for USER
  upgrade-db             bring the database up to date with this version of nodehub
  reload                 make the hub running with this configuration re-read it (as SIGHUP; docs/reload.md)
  proxy [FLAGS]          run a configurable-http-proxy-compatible proxy (see nodehub proxy --help)

Options:
  -f, --config FILE      configuration file: .yaml, .yml, .json, .mjs or .js
                         (default: $NODEHUB_CONFIG, else ./nodehub_config.yaml if it exists)
  --ip IP                listen on IP (--JupyterHub.ip; empty means all interfaces)
  --port N               listen on port N (--JupyterHub.port)
  --url URL              public URL to listen on (--JupyterHub.bind_url)
  --base-url PATH        URL prefix (--JupyterHub.base_url)
  --db URL               database URL (--JupyterHub.db_url)
  --log-level LEVEL      DEBUG, INFO, WARN or ERROR (--JupyterHub.log_level)
  --debug                log level DEBUG, and stack traces on errors
  --Class.trait=VALUE    set any configuration trait; VALUE is read as JSON when it parses, else as text,
                         e.g. --Spawner.cmd='["jupyterhub-singleuser"]' --DummyAuthenticator.password=secret
  --generate-config      write a commented configuration file listing every trait with its default
                         (to -f FILE, default nodehub_config.yaml)
  -y, --yes              let --generate-config overwrite an existing file
  --version              print the version
  -h, --help             print this help
`;
