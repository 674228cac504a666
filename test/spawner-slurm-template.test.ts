// batchspawner's templates and state parsing without a cluster: SlurmSpawner's default script renders as Jinja does,
// seed 004's str.format script as Python's format does (the Jinja side compared with Debian's python3-jinja2), and the
// commands quote what comes from the user.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.ts';
import { formatTemplate } from '../src/spawner/slurm/template.ts';
import { commandLine, execHost, jobLogFile, jobState, parseJobId, reqSubvars, type BatchConfig } from '../src/spawner/slurm/traits.ts';
import { resolveSpawnerClass } from '../src/spawner/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'nodehub-slurm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function slurmConfig(extra: Record<string, unknown> = {}): Promise<BatchConfig> {
  const file = join(dir, 'nodehub.json');
  writeFileSync(file, JSON.stringify({ JupyterHub: { spawner_class: 'batchspawner.SlurmSpawner' }, ...extra }));
  const config = await loadConfig({ file, env: {} });
  return config.spawner as BatchConfig;
}

describe('SlurmSpawner templates', () => {
  it('is selected by batchspawner\'s class paths and reads BatchSpawnerBase settings', async () => {
    expect(resolveSpawnerClass('batchspawner.SlurmSpawner').name).toBe('SlurmSpawner');
    expect(resolveSpawnerClass('slurm').classPath).toBe('batchspawner.SlurmSpawner');
    const config = await slurmConfig({ BatchSpawnerBase: { req_nprocs: '4', req_partition: 'slims' }, SlurmSpawner: { req_qos: 'short' } });
    expect(config).toMatchObject({ req_nprocs: '4', req_partition: 'slims', req_qos: 'short', start_timeout: 300, ip: '0.0.0.0', exec_prefix: 'sudo -E -u {username}' });
  });

  it("renders the default script as batchspawner's Jinja does: only the requested #SBATCH lines", async () => {
    const config = await slurmConfig({ SlurmSpawner: { req_partition: 'debug', req_runtime: '00:10:00' } });
    const vars = { ...reqSubvars(config, { username: 'ann', homedir: '/home/ann', keepvars: 'PATH,JUPYTERHUB_API_TOKEN' }), cmd: 'batchspawner-singleuser jupyterhub-singleuser' };
    const script = formatTemplate(config.batch_script, vars, 'batch_script');
    expect(script).toContain('#SBATCH --output=/home/ann/jupyterhub_slurmspawner_%j.log\n');
    expect(script).toContain('#SBATCH --export=PATH,JUPYTERHUB_API_TOKEN\n');
    expect(script).toContain('#SBATCH --partition=debug\n#SBATCH --time=00:10:00\n\n\nset -euo pipefail');
    expect(script).not.toMatch(/--mem|--gres|--cpus-per-task|--reservation/);
    expect(script).toContain('\nsrun batchspawner-singleuser jupyterhub-singleuser\n');
    expect(jobLogFile(script, '17', 'ann', '/home/ann')).toBe('/home/ann/jupyterhub_slurmspawner_17.log');
  });

  it('renders what Python\'s jinja2 renders, for the default script and the constructs it supports', async () => {
    const config = await slurmConfig();
    const cases: [string, Record<string, unknown>][] = [
      [config.batch_script, { partition: 'p', memory: '4G', nprocs: '2', options: '--hold', srun: '', cmd: 'c', homedir: '/h', keepvars: 'A,B', prologue: 'module load x', epilogue: '' }],
      [config.batch_script, { gres: 'gpu:1', reservation: 'r', srun: 'srun', cmd: 'c', homedir: '/h', keepvars: 'A', prologue: '', epilogue: 'echo done' }],
      ['{% if a and not b %}A{% elif b == "x" %}X{% else %}E{% endif %}|{{- c -}}|{# note #}{{ missing }}\n\n', { a: '1', b: '', c: ' C ' }],
      ['  {%- if a or b %} yes {% endif -%}  \n{{ n }} {{ t }} {{ f }}', { a: '', b: 'y', n: 3, t: true, f: false }],
    ];
    const python = JSON.parse(execFileSync('/usr/bin/python3', ['-c', 'import sys, json, jinja2; print(json.dumps([jinja2.Template(t).render(**v) for t, v in json.load(sys.stdin)]))'],
      { input: JSON.stringify(cases), encoding: 'utf8' })) as string[];
    expect(cases.map(([template, vars]) => formatTemplate(template, vars, 'w'))).toEqual(python);
  });

  it('supports elif/else, not/and/or, comparisons and trims; refuses what it does not render', () => {
    const t = '{% if a and not b %}A{% elif b == "x" %}X{% else %}E{% endif %}|{{- c -}}|{# note #}{{ missing }}';
    expect(formatTemplate(t, { a: '1', b: '', c: ' C ' }, 'w')).toBe('A| C |');
    expect(formatTemplate(t, { a: '', b: 'x', c: 'C' }, 'w')).toBe('X|C|');
    expect(formatTemplate(t, { a: '', b: 'y', c: 'C' }, 'w')).toBe('E|C|');
    expect(() => formatTemplate('{% for x in y %}{% endfor %}', {}, 'SlurmSpawner.batch_script')).toThrow(/SlurmSpawner.batch_script: \{% for x in y %\} is not supported/);
    expect(() => formatTemplate('{{ a|upper }}', {}, 'w')).toThrow(/not supported/);
    expect(() => formatTemplate('{% if a %}x', { a: 1 }, 'w')).toThrow(/without \{% endif %\}/);
  });

  it("renders seed 004's str.format script, and names a field it does not have", async () => {
    const config = await slurmConfig({ BatchSpawnerBase: { req_nprocs: '4', req_partition: 'slims', req_memory: '4G' } });
    const seed = '#SBATCH --partition={partition}\n#SBATCH --mem={memory}\n#SBATCH --uid={username}\n#SBATCH {options}\nJUPYTER_RUNTIME_DIR=$HOME/.jupyter/rt {cmd}\n';
    const vars = { ...reqSubvars(config, { username: 'ann', homedir: '/home/ann', keepvars: 'PATH' }), cmd: 'x' };
    expect(formatTemplate(seed, vars, 'batch_script')).toBe('#SBATCH --partition=slims\n#SBATCH --mem=4G\n#SBATCH --uid=ann\n#SBATCH \nJUPYTER_RUNTIME_DIR=$HOME/.jupyter/rt x\n');
    expect(() => formatTemplate('{workdir}', vars, 'BatchSpawnerBase.batch_script')).toThrow(/\{workdir\} names no field; fields are .*partition/);
  });

  it('quotes user-derived values in commands, parses job ids and states as batchspawner does', async () => {
    const config = await slurmConfig();
    const vars = { ...reqSubvars(config, { username: "a'b;rm -rf /", homedir: '/h', keepvars: '' }), job_id: '42' };
    expect(commandLine(config, 'batch_cancel_cmd', vars)).toBe(`sudo -E -u 'a'\\''b;rm -rf /' scancel 42`);
    expect(commandLine(config, 'batch_query_cmd', { ...vars, username: 'ann' })).toBe("sudo -E -u ann squeue -h -j 42 -o '%T %B'");
    expect(parseJobId('warning: something\n1234;cluster\n')).toBe('1234');
    expect(() => parseJobId('sbatch: error: invalid partition')).toThrow(/Could not read a job id/);
    expect(jobState(config, 'RUNNING node7')).toBe('running');
    expect(jobState(config, 'PENDING ')).toBe('pending');
    expect(jobState(config, 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)')).toBe('unknown');
    expect(jobState(config, '')).toBe('gone');
    expect(execHost(config, 'RUNNING node7.cluster')).toBe('node7.cluster');
    expect(execHost({ ...config, state_exechost_exp: '\\1-ib.local' }, 'RUNNING node7')).toBe('node7-ib.local');
  });

  it("reads seed 004's config (deploy/examples/hpc/astro.py with its subconfigs) as a PAM + Slurm hub", async () => {
    const config = await loadConfig({ file: join(import.meta.dirname, '../deploy/examples/hpc/astro.py'), env: {} });
    expect([config.spawnerSection, config.authenticatorSection, config.hub.base_url]).toEqual(['SlurmSpawner', 'PAMAuthenticator', '/astro/']);
    const spawner = config.spawner as BatchConfig;
    expect(spawner).toMatchObject({ req_nprocs: '4', req_partition: 'slims', req_memory: '4G' });
    const script = formatTemplate(spawner.batch_script, { ...reqSubvars(spawner, { username: 'student01', homedir: '/home/student01', keepvars: 'PATH' }), cmd: 'batchspawner-singleuser jupyterhub-singleuser' }, 'batch_script');
    expect(script).toContain('#SBATCH --partition=slims\n#SBATCH --output=/home/student01/myjupyterhub_%j.log\n');
    expect(script).toContain('JUPYTER_RUNTIME_DIR=$HOME/.jupyter/rt batchspawner-singleuser jupyterhub-singleuser\n');
  });

  it('refuses a state_*_re that is no regular expression, naming the setting', async () => {
    await expect(slurmConfig({ SlurmSpawner: { state_running_re: '(' } })).rejects.toThrow(/SlurmSpawner.state_running_re/);
  });
});
