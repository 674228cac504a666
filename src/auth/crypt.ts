// JUPYTERHUB_CRYPT_KEY and the Fernet format JupyterHub's CryptKeeper uses (cryptography's MultiFernet): keys are
// separated by ';', the first encrypts, every one is tried to decrypt, so a new key can be put first and old auth
// state still reads until it is rewritten. A token is base64url(0x80 | time | iv | AES-128-CBC(data) | HMAC-SHA256).
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

interface FernetKey { signing: Buffer; encryption: Buffer }

/** One key: 64 hex characters, or base64/base64url of 32 bytes (JupyterHub accepts both). */
function parseKey(text: string, index: number): FernetKey {
  const s = text.trim();
  let raw: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(s)) raw = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) raw = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!raw || raw.length !== 32) {
    throw new Error(`JUPYTERHUB_CRYPT_KEY: key ${index + 1} must be 32 bytes, as 64 hex characters or base64 (e.g. the output of \`openssl rand -hex 32\`)`);
  }
  return { signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
}

export class CryptKeeper {
  private readonly keys: FernetKey[];

  constructor(keys: FernetKey[]) {
    if (keys.length === 0) throw new Error('CryptKeeper needs at least one key');
    this.keys = keys;
  }

  /** From the environment variable's value; null when it is empty or unset. A malformed key is an Error. */
  static fromEnv(value: string | undefined): CryptKeeper | null {
    const parts = (value ?? '').split(';').map((k) => k.trim()).filter(Boolean);
    return parts.length ? new CryptKeeper(parts.map(parseKey)) : null;
  }

  encrypt(data: unknown): string {
    const { signing, encryption } = this.keys[0]!;
    const iv = randomBytes(16);
    const time = Buffer.alloc(8);
    time.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000)));
    const cipher = createCipheriv('aes-128-cbc', encryption, iv);
    const body = Buffer.concat([Buffer.from([0x80]), time, iv, cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    const mac = createHmac('sha256', signing).update(body).digest();
    return Buffer.concat([body, mac]).toString('base64url');
  }

  /** The value, or an Error when no key opens the token. */
  decrypt(token: string): unknown {
    const buf = Buffer.from(token, 'base64url');
    if (buf.length < 1 + 8 + 16 + 16 + 32 || buf[0] !== 0x80) throw new Error('not a Fernet token');
    const body = buf.subarray(0, buf.length - 32);
    const mac = buf.subarray(buf.length - 32);
    for (const k of this.keys) {
      const want = createHmac('sha256', k.signing).update(body).digest();
      if (!timingSafeEqual(want, mac)) continue;
      const decipher = createDecipheriv('aes-128-cbc', k.encryption, body.subarray(9, 25));
      const plain = Buffer.concat([decipher.update(body.subarray(25)), decipher.final()]);
      return JSON.parse(plain.toString('utf8'));
    }
    throw new Error('no key in JUPYTERHUB_CRYPT_KEY decrypts this auth state');
  }
}
