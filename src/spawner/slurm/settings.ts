// batchspawner's settings, declared once here: BatchSpawnerBase (what every batch spawner shares, the section seed
// configs such as `c.BatchSpawnerBase.req_nprocs = '4'` write) and SlurmSpawner (Slurm's defaults). Names, string
// types and meanings are batchspawner 1.3's, so a `jupyterhub_config.py` written for it reads the same here; every
// `req_*` value is a string, as batchspawner's are (YAML must quote `'00:10:00'`, or it reads a number).
import { configurable, setting } from '../../config/declare.ts';
import * as t from '../../config/traits.ts';
import { Spawner } from '../settings.ts';

/** A Python regular expression as batchspawner writes them; checked for what JavaScript's RegExp accepts. */
const regex: t.TraitType<string> = {
  doc: 'regular expression',
  expected: 'a regular expression',
  raw: true,
  check(value, path, where) {
    if (typeof value !== 'string') throw t.mismatch(path, this.expected, value, where);
    try {
      new RegExp(value, 'm');
    } catch (err) {
      throw t.mismatch(path, `a regular expression (${(err as Error).message})`, value, where);
    }
    return value;
  },
};

export const BatchSpawnerBase = configurable('BatchSpawnerBase', Spawner, "batchspawner's settings shared by every batch spawner: the job's resources, the script, and the commands that submit, query and cancel it.", {
  start_timeout: setting(t.int, 300, 'Seconds a job may take from submission until its server reports its port (batchspawner: 300, since jobs may queue).'),
  ip: setting(t.string, '0.0.0.0', 'IP the server inside the job listens on (all interfaces: the hub connects to the host the scheduler names).'),
  exec_prefix: setting(t.string, 'sudo -E -u {username}', 'Prefix of the submit, query and cancel commands, so they run as the user ({username} etc., like batch_submit_cmd).'),
  req_queue: setting(t.string, '', 'Queue to submit the job to ({queue} in templates).'),
  req_host: setting(t.string, '', 'Host of the batch server ({host} in templates).'),
  req_memory: setting(t.string, '', 'Memory the job asks for, e.g. "4G" ({memory}).'),
  req_nprocs: setting(t.string, '', 'Processors the job asks for ({nprocs}).'),
  req_ngpus: setting(t.string, '', 'GPUs the job asks for ({ngpus}).'),
  req_runtime: setting(t.string, '', 'Wall time of the job, e.g. "8:00:00" ({runtime}).'),
  req_partition: setting(t.string, '', 'Partition to submit the job to ({partition}).'),
  req_account: setting(t.string, '', 'Account charged for the job ({account}).'),
  req_options: setting(t.string, '', 'More options written into the script ({options}).'),
  req_prologue: setting(t.string, '', 'Shell lines run in the job before the server starts ({prologue}).'),
  req_epilogue: setting(t.string, '', 'Shell lines run in the job after the server ends ({epilogue}).'),
  req_keepvars: setting(t.string, '', "Comma-separated environment variables the job keeps ({keepvars}); empty means batchspawner's default, the names of every variable the server's environment has (Spawner.environment included)."),
  req_keepvars_extra: setting(t.string, '', 'More variables appended to req_keepvars, comma separated.'),
  batch_script: setting(t.string, '', 'Template of the job script: {name} fields (str.format) or, when it holds {{ or {%, the Jinja subset documented in docs/slurm.md. Fields are the req_* settings without req_ (plus username, homedir), cmd, and the user_options. Must contain {cmd}.'),
  batchspawner_singleuser_cmd: setting(t.string, 'batchspawner-singleuser', "Wrapper put before Spawner.cmd in the script; it picks the server's port on the compute node and reports it to the hub (POST /hub/api/batchspawner). nodehub ships one that needs only Python's standard library: bin/nodehub-batchspawner-singleuser."),
  batch_submit_cmd: setting(t.string, '', 'Command that submits the script (read on its stdin) and prints the job id; {name} fields as in batch_script.'),
  batch_query_cmd: setting(t.string, '', "Command that prints the job's state; {job_id} and the req_* fields."),
  batch_cancel_cmd: setting(t.string, '', 'Command that cancels the job; {job_id} and the req_* fields.'),
  startup_poll_interval: setting(t.positiveFloat, 0.5, "Seconds between queries of the job's state while it starts."),
  state_pending_re: setting(regex, '', "Matches the query's output while the job waits to run."),
  state_running_re: setting(regex, '', "Matches the query's output while the job runs."),
  state_unknown_re: setting(regex, '', "Matches the query's output when the scheduler does not answer (the job is then neither lost nor running); empty: not used."),
  state_exechost_re: setting(regex, '', "Captures the host the job runs on from the query's output (first group)."),
  state_exechost_exp: setting(t.string, '', 'If set, the host is this string with \\1 (or \\g<name>) replaced from state_exechost_re\'s match, e.g. "\\1.cluster.local".'),
  queue_detail_cmd: setting(t.string, "squeue -h -t PENDING --sort=-p,i -o '%i %r'", 'nodehub: while a job waits, this command lists the waiting jobs in queue order as "<job id> <reason>" lines, for the queue position and reason on the progress page; empty turns it off.'),
  job_detail_cmd: setting(t.string, '', "nodehub: when a job ends before its server is up, this command's output (e.g. the job's final state and reason) is put into the spawn's error; {job_id} and the req_* fields; empty: none."),
  command_timeout: setting(t.positiveFloat, 30, 'nodehub: seconds one submit, query or cancel command may take before it is killed and counted as failed.'),
});

const SLURM_SCRIPT = `#!/bin/bash
#SBATCH --output={{homedir}}/jupyterhub_slurmspawner_%j.log
#SBATCH --job-name=spawner-jupyterhub
#SBATCH --chdir={{homedir}}
#SBATCH --export={{keepvars}}
#SBATCH --get-user-env=L
{% if partition  %}#SBATCH --partition={{partition}}
{% endif %}{% if runtime    %}#SBATCH --time={{runtime}}
{% endif %}{% if memory     %}#SBATCH --mem={{memory}}
{% endif %}{% if gres       %}#SBATCH --gres={{gres}}
{% endif %}{% if nprocs     %}#SBATCH --cpus-per-task={{nprocs}}
{% endif %}{% if reservation%}#SBATCH --reservation={{reservation}}
{% endif %}{% if options    %}#SBATCH {{options}}{% endif %}

set -euo pipefail

trap 'echo SIGTERM received' TERM
{{prologue}}
{% if srun %}{{srun}} {% endif %}{{cmd}}
echo "jupyterhub-singleuser ended gracefully"
{{epilogue}}
`;

export const SlurmSpawner = configurable('SlurmSpawner', BatchSpawnerBase, "Runs each server as a Slurm batch job (batchspawner's SlurmSpawner).", {
  batch_script: setting(t.string, SLURM_SCRIPT, "Template of the job script (batchspawner's SlurmSpawner script by default)."),
  req_cluster: setting(t.string, '', 'Cluster to submit the job to ({cluster}).'),
  req_qos: setting(t.string, '', 'Quality of service of the job ({qos}).'),
  req_srun: setting(t.string, 'srun', "Prefix of the server's command in the script, so it runs as a job step; '' runs it in the batch step itself (the environment then is the script's)."),
  req_reservation: setting(t.string, '', 'Reservation to run the job in ({reservation}).'),
  req_gres: setting(t.string, '', 'Generic resources, e.g. "gpu:1" ({gres}).'),
  batch_submit_cmd: setting(t.string, 'sbatch --parsable', 'Command that submits the script.'),
  batch_query_cmd: setting(t.string, "squeue -h -j {job_id} -o '%T %B'", 'Command that prints the job\'s state and host, e.g. "RUNNING node1".'),
  batch_cancel_cmd: setting(t.string, 'scancel {job_id}', 'Command that cancels the job.'),
  job_detail_cmd: setting(t.string, "squeue -h -t all -j {job_id} -o '%T %r'", 'nodehub: prints a finished job\'s state and reason, e.g. "FAILED NonZeroExitCode", for the spawn\'s error.'),
  state_pending_re: setting(regex, '^(?:PENDING|CONFIGURING)', "Matches a waiting job's state."),
  state_running_re: setting(regex, '^(?:RUNNING|COMPLETING)', "Matches a running job's state."),
  state_unknown_re: setting(regex, '^slurm_load_jobs error: (?:Socket timed out on send/recv|Unable to contact slurm controller)', 'Matches the query failing because slurmctld does not answer.'),
  state_exechost_re: setting(regex, '\\s+((?:[\\w_-]+\\.?)+)$', "Captures the job's host from the query's output."),
});
