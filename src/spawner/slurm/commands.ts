// Running the batch system's commands as batchspawner does: one `/bin/sh -c` line (exec_prefix + the command), the
// script on stdin, the job's environment for the submit command. Secrets (the server's token) travel in that
// environment, never on a command line. Every command is bounded by BatchSpawnerBase.command_timeout.
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly result: CommandResult;
  constructor(message: string, result: CommandResult) {
    super(message);
    this.result = result;
  }
}

const MAX_OUTPUT = 1 << 20;

/** Runs `line` with /bin/sh; resolves with trimmed output whatever the exit code (callers decide what failure means). */
export function runShell(line: string, opts: { input?: string; env?: Record<string, string>; timeoutMs: number; signal?: AbortSignal }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', line], {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // its own group, so a timeout ends sudo and what it started too
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    const take = (which: 'out' | 'err') => (d: Buffer) => {
      if (which === 'out' && stdout.length < MAX_OUTPUT) stdout += d.toString();
      if (which === 'err' && stderr.length < MAX_OUTPUT) stderr += d.toString();
    };
    child.stdout.on('data', take('out'));
    child.stderr.on('data', take('err'));
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const onAbort = () => kill();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdin.on('error', () => {}); // a command that does not read its stdin
    child.stdin.end(opts.input ?? '');
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const result = { code, stdout: stdout.trim(), stderr: stderr.trim() };
      if (timedOut) reject(new CommandError(`\`${line}\` did not finish within ${opts.timeoutMs / 1000} s`, result));
      else resolve(result);
    });
  });
}

/** Like runShell, but a non-zero exit is an error carrying the command's stderr (batchspawner's RuntimeError). */
export async function runChecked(line: string, opts: Parameters<typeof runShell>[1]): Promise<string> {
  const result = await runShell(line, opts);
  if (result.code !== 0) {
    const why = result.stderr || result.stdout || '(no output)';
    throw new CommandError(`\`${line}\` exited ${result.code ?? 'on a signal'}: ${why}`, result);
  }
  return result.stdout;
}
