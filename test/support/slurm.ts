// A one-node Slurm cluster from Debian's slurm-wlm and munge, made and started by a test in its own directory:
// munged in the foreground as the munge user with a fresh key, slurmctld and slurmd with `-D` and a generated
// slurm.conf (free ports, state and spool in the directory, no cgroups: proctrack/linuxproc and task/none, no
// accounting). Clients find it through SLURM_CONF. Needs root (slurmd launches jobs as their users).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { freePort } from './hub-process.ts';

export interface SlurmCluster {
  dir: string;
  conf: string;
  node: string;
  env: Record<string, string>;
  /** Runs a Slurm client command (squeue, scontrol, scancel …) against this cluster; returns its stdout. */
  run(cmd: string, args: string[]): string;
  output(): string;
  stop(): Promise<void>;
}

const NEEDED = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sudo'];

/** Why this machine cannot run the cluster, or null when it can. */
export function slurmMissing(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const cmd of NEEDED) {
    try {
      execFileSync('which', [cmd], { stdio: 'ignore' });
    } catch {
      return `${cmd} is not installed (Debian: slurm-wlm, munge, sudo)`;
    }
  }
  return null;
}

export async function startSlurmCluster(dir: string, cpus = 32, partition = 'debug'): Promise<SlurmCluster> {
  // munged checks that every directory up to its socket is searchable by all and its key directory private
  chmodSync(dir, 0o755);
  const munge = join(dir, 'munge');
  const mungeEtc = join(munge, 'etc');
  mkdirSync(mungeEtc, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'munge'], { encoding: 'utf8' }).trim());
  const mungeGid = Number(execFileSync('id', ['-g', 'munge'], { encoding: 'utf8' }).trim());
  chownSync(munge, uid, mungeGid);
  chownSync(mungeEtc, uid, mungeGid);
  chmodSync(munge, 0o755);
  chmodSync(mungeEtc, 0o700);
  const key = join(mungeEtc, 'key');
  execFileSync('setpriv', ['--reuid', String(uid), '--regid', String(mungeGid), '--clear-groups', 'mungekey', '-c', '-k', key]);
  const socket = join(munge, 'socket');
  const procs: ChildProcess[] = [];
  let out = '';
  const start = (name: string, file: string, args: string[], asMunge = false) => {
    const [f, a] = asMunge ? ['setpriv', ['--reuid', String(uid), '--regid', String(mungeGid), '--clear-groups', file, ...args]] : [file, args];
    const child = spawn(f as string, a as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (out += `[${name}] ${d}`));
    child.stderr!.on('data', (d: Buffer) => (out += `[${name}] ${d}`));
    procs.push(child);
  };
  start('munged', 'munged', ['-F', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${join(mungeEtc, 'pid')}`,
    `--log-file=${join(mungeEtc, 'log')}`, `--seed-file=${join(mungeEtc, 'seed')}`], true);
  await until(() => existsSync(socket), 10_000, () => `munged did not start:\n${out}`);

  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  const node = hostname().split('.')[0]!;
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=nodehubtest',
    `SlurmctldHost=${node}(127.0.0.1)`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${dPort}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    `AuthInfo=socket=${socket}`,
    'CredType=cred/munge',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    'MpiDefault=none',
    'SchedulerType=sched/backfill',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    // more CPUs than the machine has, so many one-CPU jobs run at once
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    'MinJobAge=300',
    // memory too (config_overrides again), so that jobs asking for some, as seed 004's do, fit
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=65536 State=UNKNOWN`,
    `PartitionName=${partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n'));
  const env = { SLURM_CONF: conf };
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  start('slurmctld', 'slurmctld', ['-D', '-f', conf]);
  start('slurmd', 'slurmd', ['-D', '-f', conf, '-N', node]);
  await until(() => {
    try {
      return /idle/.test(run('sinfo', ['-h', '-o', '%T']));
    } catch {
      return false;
    }
  }, 30_000, () => `the Slurm node did not become idle:\n${out}`);
  return {
    dir, conf, node, env, run,
    output: () => out,
    async stop() {
      // every job first: slurmstepd and the job's processes would outlive slurmd
      try {
        const jobs = run('squeue', ['-h', '-o', '%i']).split('\n').filter(Boolean);
        if (jobs.length) run('scancel', jobs);
        await until(() => run('squeue', ['-h', '-o', '%i']).trim() === '', 15_000, () => 'jobs outlived scancel');
      } catch {
        // the controller is gone or jobs linger: the daemons go anyway
      }
      for (const p of procs.reverse()) {
        if (p.exitCode !== null || p.signalCode !== null) continue;
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    },
  };
}

async function until(ok: () => boolean, ms: number, why: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}
