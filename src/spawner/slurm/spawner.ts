// SlurmSpawner: each server a batch job, as batchspawner's SlurmSpawner runs it. The job script (batch_script) is
// submitted as the user (exec_prefix, `sudo -E -u {username}`), the job queried until it runs, and the server inside it
// picks its own port on the compute node and reports it to the hub (POST /hub/api/batchspawner with the server's token,
// taken by acceptReport); the hub then connects to the host the scheduler names. The job id is the state a restarted
// hub adopts the server by; stop cancels the job.
import { buildServerEnv } from '../env.ts';
import { ProgressFeed } from '../progress-feed.ts';
import { waitForHttp } from '../readiness.ts';
import { readTail, urlHost } from '../local/os.ts';
import type { ProgressEvent, Spawner, SpawnerInit } from '../types.ts';
import { lookupSystemUser } from '../../util/system-users.ts';
import { sleep } from '../../util/time.ts';
import { runChecked, runShell } from './commands.ts';
import { formatTemplate, type Vars } from './template.ts';
import { commandLine, execHost, jobLogFile, jobState, parseJobId, reqSubvars, type BatchConfig, type JobState } from './traits.ts';
import { queueDetail } from './queue.ts';

/** Seconds batchspawner's stop waits, querying once a second, for a cancelled job to leave the running state. */
const STOP_CHECKS = 10;

export class SlurmSpawner implements Spawner {
  #init: SpawnerInit;
  #config: BatchConfig;
  #feed = new ProgressFeed();
  #jobId = '';
  #jobStatus = '';
  #host: string | null = null;
  #port: number | null = null;
  /** Substitution variables of the current job, for the query and cancel commands. */
  #vars: Vars = {};
  #script = '';
  #portReported: (() => void) | null = null;
  #starting: AbortController | null = null;
  #startSettled: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | null = null;
  #watch: NodeJS.Timeout | null = null;
  #watching = false;

  constructor(init: SpawnerInit) {
    this.#init = init;
    this.#config = init.config as BatchConfig;
    const { state } = init;
    if (typeof state.job_id === 'string' && state.job_id) {
      this.#jobId = state.job_id;
      this.#jobStatus = typeof state.job_status === 'string' ? state.job_status : '';
      this.#host = typeof state.host === 'string' ? state.host : null;
      this.#port = typeof state.port === 'number' ? state.port : null;
      this.#vars = { ...reqSubvars(this.#config, { username: init.spec.user.name, homedir: '', keepvars: '' }), job_id: this.#jobId };
      this.#startWatch();
    }
  }

  getState(): Record<string, unknown> {
    if (!this.#jobId) return {};
    return { job_id: this.#jobId, job_status: this.#jobStatus, host: this.#host, port: this.#port };
  }

  progress(): AsyncIterable<ProgressEvent> {
    return this.#feed.events();
  }

  /** batchspawner's poll: null while the job is pending, running or the scheduler does not answer; 1 once it is gone. */
  async poll(): Promise<number | null> {
    if (!this.#jobId) return 1;
    const state = await this.#query();
    return state === 'gone' ? 1 : null;
  }

  /** The job's report (batchspawner-singleuser's POST /hub/api/batchspawner): the port its server listens on. */
  acceptReport(data: Record<string, unknown>): void {
    const port = data.port;
    if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) {
      throw new Error(`port must be an integer from 1 to 65535, got ${JSON.stringify(port)}`);
    }
    this.#port = port as number;
    this.#init.log.debug(`Job ${this.#jobId} reported port ${this.#port}`);
    this.#portReported?.();
  }

  start(): Promise<string> {
    if (this.#starting) return Promise.reject(new Error('This server is already starting'));
    const abort = new AbortController();
    this.#starting = abort;
    const run = this.#run(abort.signal).finally(() => {
      this.#starting = null;
      this.#feed.end();
    });
    this.#startSettled = run.then(() => {}, () => {});
    return run;
  }

  async stop(): Promise<void> {
    if (this.#starting) {
      this.#starting.abort();
      await this.#startSettled;
    }
    this.#stopping ??= this.#cancel().finally(() => (this.#stopping = null));
    return this.#stopping;
  }

  async #run(signal: AbortSignal): Promise<string> {
    if (this.#stopping) await this.#stopping;
    if (this.#jobId && (await this.poll()) === null) throw new Error(`This server's job ${this.#jobId} is still in the queue or running`);
    this.#feed.reset();
    this.#clear();
    try {
      return await this.#submitAndWait(signal);
    } catch (err) {
      await this.#cancel().catch((e: Error) => this.#init.log.warn(`Cancelling job ${this.#jobId} failed: ${e.message}`));
      if (signal.aborted) throw new Error('Start was cancelled: the server was stopped while starting');
      throw err;
    }
  }

  async #submitAndWait(signal: AbortSignal): Promise<string> {
    const { spec, log } = this.#init;
    const config = this.#config;
    const account = await lookupSystemUser(spec.user.name);
    if (!account) {
      throw new Error(`User ${spec.user.name} has no system account (getent passwd ${spec.user.name} finds none); a batch job runs as the user, so it needs one`);
    }
    const env = buildServerEnv(spec, config, `http://${urlHost(config.ip || '0.0.0.0')}:0`, {
      user: account.name, home: account.home, shell: account.shell, adminAccess: this.#init.hubConfig?.hub?.admin_access === true,
    });
    const vars = reqSubvars(config, { username: account.name, homedir: account.home, keepvars: Object.keys(env).join(',') });
    this.#vars = vars;
    const submit = commandLine(config, 'batch_submit_cmd', vars);
    const cmd = [config.batchspawner_singleuser_cmd, ...config.cmd, ...config.args].filter(Boolean).join(' ');
    this.#script = formatTemplate(config.batch_script, { ...vars, cmd, ...spec.userOptions }, 'BatchSpawnerBase.batch_script');
    this.#feed.push({ progress: 10, message: 'Submitting the batch job…' });
    log.info(`Submitting job for ${describe(spec)}: ${submit}`);
    log.debug(`Job script:\n${this.#script}`);
    const out = await runChecked(submit, { input: this.#script, env, timeoutMs: this.#timeoutMs(), signal });
    this.#jobId = parseJobId(out);
    this.#vars = { ...vars, job_id: this.#jobId };
    // Recorded at once: a hub killed from here on leaves a job id its successor cancels or adopts.
    this.#init.recordState?.(this.getState());
    log.info(`Submitted job ${this.#jobId} for ${describe(spec)}`);
    this.#feed.push({ progress: 20, message: `Job ${this.#jobId} submitted` });

    const interval = config.startup_poll_interval * 1000;
    let lastDetail = '';
    for (;;) {
      if (signal.aborted) throw new Error('aborted');
      const state = await this.#query(signal);
      if (state === 'running') break;
      if (state === 'gone') throw new Error(await this.#goneMessage('before its server started'));
      let message = state === 'pending' ? `Job ${this.#jobId} is pending in the queue` : `Job ${this.#jobId}: the scheduler does not answer; still trying`;
      if (state === 'pending') {
        const detail = await queueDetail(config, this.#vars, this.#jobId, this.#timeoutMs(), signal).catch(() => null);
        if (detail) message += `: position ${detail.position} of ${detail.total}${detail.reason ? ` (reason: ${detail.reason})` : ''}`;
      }
      if (message !== lastDetail) this.#feed.push({ progress: 30, message });
      lastDetail = message;
      await sleep(interval, signal);
    }
    this.#host = execHost(config, this.#jobStatus);
    if (!this.#host) throw new Error(`Job ${this.#jobId} runs, but state_exechost_re finds no host in ${JSON.stringify(this.#jobStatus)}`);
    this.#feed.push({ progress: 50, message: `Job ${this.#jobId} running on ${this.#host}; waiting for its server to report its port…` });
    this.#init.recordState?.(this.getState());

    while (this.#port === null) {
      await new Promise<void>((resolve) => {
        this.#portReported = resolve;
        void sleep(interval, signal).then(resolve);
      });
      this.#portReported = null;
      if (signal.aborted) throw new Error('aborted');
      if (this.#port !== null) break;
      if ((await this.#query(signal)) === 'gone') throw new Error(await this.#goneMessage('before its server reported its port'));
    }
    const origin = `http://${urlHost(this.#host)}:${this.#port}`;
    this.#feed.push({ progress: 70, message: `Server in job ${this.#jobId} listens at ${origin}; waiting for it to answer…` });
    this.#init.recordState?.(this.getState());
    await waitForHttp(`${origin}${spec.prefix}`, { timeoutMs: config.http_timeout * 1000, signal, intervalMs: 100 });
    log.info(`Server of ${describe(spec)} runs in job ${this.#jobId} at ${origin}`);
    this.#startWatch();
    return origin;
  }

  /** Runs batch_query_cmd; its output (stdout, or stderr when it fails, as batchspawner keeps it) is the job status. */
  async #query(signal?: AbortSignal): Promise<JobState> {
    const line = commandLine(this.#config, 'batch_query_cmd', this.#vars);
    try {
      const r = await runShell(line, { timeoutMs: this.#timeoutMs(), signal });
      this.#jobStatus = r.code === 0 ? r.stdout : r.stderr;
    } catch (err) {
      this.#init.log.warn(`Querying job ${this.#jobId} failed: ${(err as Error).message}`);
      return 'unknown';
    }
    return jobState(this.#config, this.#jobStatus);
  }

  /** Why a job is gone: what the scheduler last said, and the tail of the job's output file. */
  async #goneMessage(when: string): Promise<string> {
    const said = await this.#finalState();
    const home = typeof this.#vars.homedir === 'string' ? this.#vars.homedir : '';
    const log = jobLogFile(this.#script, this.#jobId, this.#init.spec.user.name, home);
    const tail = log ? await readTail(log, 15) : '';
    return `The batch job ${this.#jobId} ended ${when}${said}${tail ? `; the end of ${log}:\n${tail}` : ''}`;
  }

  /** ' (scheduler: FAILED NonZeroExitCode)': job_detail_cmd's output, else the last query's, else ''. */
  async #finalState(): Promise<string> {
    let said = this.#jobStatus;
    if (this.#config.job_detail_cmd) {
      const line = commandLine({ ...this.#config, batch_query_cmd: this.#config.job_detail_cmd }, 'batch_query_cmd', this.#vars);
      said = (await runShell(line, { timeoutMs: this.#timeoutMs() }).catch(() => null))?.stdout || said;
    }
    return said ? ` (scheduler: ${said.slice(0, 300)})` : '';
  }

  /** batchspawner's stop: cancel, then query (up to 10 s) until the job no longer runs. */
  async #cancel(): Promise<void> {
    this.#stopWatch();
    if (!this.#jobId) return;
    const { log } = this.#init;
    const line = commandLine(this.#config, 'batch_cancel_cmd', this.#vars);
    log.info(`Cancelling job ${this.#jobId}: ${line}`);
    try {
      await runChecked(line, { timeoutMs: this.#timeoutMs() });
    } catch (err) {
      log.warn(`${(err as Error).message}`);
    }
    for (let i = 0; i < STOP_CHECKS; i++) {
      const state = await this.#query();
      if (state === 'gone' || state === 'pending') break;
      await sleep(1000);
      if (i === STOP_CHECKS - 1) log.warn(`Job ${this.#jobId} may not have ended: ${this.#jobStatus}`);
    }
    this.#clear();
  }

  /** Once started (or adopted): a job that ends or is cancelled on its own tells the hub within Spawner.poll_interval. */
  #startWatch(): void {
    this.#stopWatch();
    const every = Math.max(1, this.#config.poll_interval) * 1000;
    this.#watch = setInterval(() => {
      if (this.#watching || this.#stopping || this.#starting) return;
      this.#watching = true;
      void this.#query().then(async (state) => {
        if (state !== 'gone' || !this.#watch || this.#stopping) return;
        this.#stopWatch();
        this.#init.onExit(`Batch job ${this.#jobId} ended${await this.#finalState()}`);
      }).finally(() => (this.#watching = false));
    }, every);
    this.#watch.unref();
  }

  #stopWatch(): void {
    if (this.#watch) clearInterval(this.#watch);
    this.#watch = null;
  }

  #clear(): void {
    this.#jobId = '';
    this.#jobStatus = '';
    this.#host = null;
    this.#port = null;
  }

  #timeoutMs(): number {
    return this.#config.command_timeout * 1000;
  }
}

function describe(spec: SpawnerInit['spec']): string {
  return spec.serverName ? `${spec.user.name}/${spec.serverName}` : spec.user.name;
}
