// BatchSpawnerBase/SlurmSpawner settings as the spawner uses them, and the parts of batchspawner's logic that are pure
// functions of them: the `req_*` substitution variables, the three command lines, the job id, and reading the query's
// output with the state_* expressions. Values were checked and defaulted by the loader (./settings.ts).
import type { SpawnerConfig } from '../../config/types.ts';
import type { ValuesOf } from '../../config/declare.ts';
import type { SlurmSpawner } from './settings.ts';
import { formatTemplate, shellQuote, type Vars } from './template.ts';

export type BatchConfig = ValuesOf<typeof SlurmSpawner> & SpawnerConfig;

export type JobState = 'pending' | 'running' | 'unknown' | 'gone';

/** Python regular expressions into JavaScript ones: named groups `(?P<n>` and back-references `(?P=n)`. */
export function pyRegex(source: string): RegExp {
  return new RegExp(source.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'));
}

/** Every `req_xyz` setting as `xyz` (keepvars with keepvars_extra appended), as batchspawner's get_req_subvars. */
export function reqSubvars(config: BatchConfig, computed: { username: string; homedir: string; keepvars: string }): Vars {
  const vars: Vars = {};
  for (const [key, value] of Object.entries(config)) if (key.startsWith('req_')) vars[key.slice(4)] = value;
  vars.username = computed.username;
  vars.homedir = computed.homedir;
  if (!vars.keepvars) vars.keepvars = computed.keepvars;
  if (vars.keepvars_extra) vars.keepvars = `${String(vars.keepvars)},${String(vars.keepvars_extra)}`;
  return vars;
}

/**
 * `exec_prefix` + a command, formatted with the variables. What comes from the user (name, home, job id) is quoted for
 * the shell the hub runs it in; the admin's own values (`req_options` etc.) go in as written, as batchspawner does.
 */
export function commandLine(config: BatchConfig, which: 'batch_submit_cmd' | 'batch_query_cmd' | 'batch_cancel_cmd', vars: Vars): string {
  const quoted: Vars = { ...vars };
  for (const key of ['username', 'homedir', 'job_id']) if (typeof quoted[key] === 'string') quoted[key] = shellQuote(quoted[key]);
  const prefix = formatTemplate(config.exec_prefix, quoted, 'BatchSpawnerBase.exec_prefix');
  const cmd = formatTemplate(config[which], quoted, `BatchSpawnerBase.${which}`);
  return prefix ? `${prefix} ${cmd}` : cmd;
}

/** batchspawner's SlurmSpawner.parse_job_id: the last line, up to a `;` (sbatch --parsable prints `id;cluster`). */
export function parseJobId(output: string): string {
  const last = output.trim().split('\n').pop()?.trim() ?? '';
  const id = last.split(';')[0]!.trim();
  if (!/^\d+$/.test(id)) throw new Error(`Could not read a job id from the submit command's output: ${JSON.stringify(output.slice(-500))}`);
  return id;
}

/** What a query's output says, in batchspawner's order: running, pending, unknown, else gone. */
export function jobState(config: BatchConfig, status: string): JobState {
  if (!config.state_running_re || !config.state_pending_re) {
    throw new Error('BatchSpawnerBase.state_running_re and state_pending_re must be set for this spawner');
  }
  if (status && pyRegex(config.state_running_re).test(status)) return 'running';
  if (status && pyRegex(config.state_pending_re).test(status)) return 'pending';
  if (status && config.state_unknown_re && pyRegex(config.state_unknown_re).test(status)) return 'unknown';
  return 'gone';
}

/** The execution host from the query's output (state_exechost_re, expanded with state_exechost_exp), or null. */
export function execHost(config: BatchConfig, status: string): string | null {
  const m = pyRegex(config.state_exechost_re).exec(status);
  if (!m) return null;
  if (!config.state_exechost_exp) return m[1] ?? null;
  // Python's match.expand: \1, \g<1>, \g<name>
  return config.state_exechost_exp.replace(/\\g<(\w+)>|\\(\d+)/g, (_, g: string | undefined, n: string | undefined) => {
    const key = g ?? n!;
    return (/^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key]) ?? '';
  });
}

/** The `--output` file the script names (%j: job id, %u: user, %x: job name), for the tail of a failed job's log. */
export function jobLogFile(script: string, jobId: string, user: string, homedir: string): string | null {
  const m = /^#SBATCH\s+(?:--output[= ]|-o\s*)(\S+)/m.exec(script);
  if (!m) return null;
  const name = /^#SBATCH\s+(?:--job-name[= ]|-J\s*)(\S+)/m.exec(script)?.[1] ?? '';
  const file = m[1]!.replace(/%j/g, jobId).replace(/%u/g, user).replace(/%x/g, name).replace(/%%/g, '%');
  if (file.includes('%')) return null;
  return file.startsWith('/') ? file : `${homedir}/${file}`;
}
