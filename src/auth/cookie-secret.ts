// The key that signs hub cookies (spec 3.4): 32 random bytes, from config/env as hex, else from the secret file,
// else freshly made and written there, so logins survive a hub restart.
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, basename, join, resolve } from 'node:path';

export const COOKIE_SECRET_BYTES = 32;

function fromHex(hex: string, where: string): Buffer {
  const text = hex.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) {
    throw new Error(`${where} must be an even number of hexadecimal characters (e.g. the output of: openssl rand -hex 32)`);
  }
  return Buffer.from(text, 'hex');
}

export interface CookieSecretOptions {
  /** `JupyterHub.cookie_secret` (hex); wins over everything else. */
  secretHex?: string;
  /** `JupyterHub.cookie_secret_file`. */
  file: string;
  /** Where to look for JPY_COOKIE_SECRET when secretHex is empty; defaults to process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * Loads the cookie secret in JupyterHub's order: config, then env JPY_COOKIE_SECRET, then the file. A file that
 * group or others may access is refused, because anyone who reads it can forge logins.
 */
export function loadOrCreateCookieSecret(opts: CookieSecretOptions): Buffer {
  if (opts.secretHex) return fromHex(opts.secretHex, 'JupyterHub.cookie_secret');
  const envHex = (opts.env ?? process.env).JPY_COOKIE_SECRET;
  if (envHex) return fromHex(envHex, 'JPY_COOKIE_SECRET');

  const file = resolve(opts.file);
  let mode: number | null = null;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`Cannot read cookie secret file ${file}: ${(err as Error).message}`);
    }
  }
  if (mode !== null) {
    if (mode & 0o077) {
      throw new Error(
        `Refusing to use cookie secret file ${file}: it can be accessed by group or others ` +
          `(mode ${(mode & 0o777).toString(8)}); run: chmod 600 ${file}`,
      );
    }
    const text = readFileSync(file, 'utf8').trim();
    // An empty file is treated as absent (JupyterHub regenerates in that case too).
    if (text) return fromHex(text, `Cookie secret file ${file}`);
  }

  const secret = randomBytes(COOKIE_SECRET_BYTES);
  writeSecretFile(file, secret.toString('hex') + '\n');
  return secret;
}

// Written to a private temporary file and renamed into place, so no reader ever sees a partial or readable secret.
function writeSecretFile(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (err) {
    throw new Error(`Cannot create cookie secret file in ${dirname(file)}: ${(err as Error).message}`);
  }
  try {
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw new Error(`Cannot write cookie secret file ${file}: ${(err as Error).message}`);
  }
}
