import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FerryError } from '../domain/errors.ts';

/** Encrypts connection secrets at rest with AES-256-GCM under a key derived from FERRY_SECRET_KEY. */
export interface SecretBox {
  encrypt(value: Record<string, unknown>): string;
  decrypt(sealed: string): Record<string, unknown>;
  /** Identifies the key without revealing it, so a store can refuse a key it was not sealed with. */
  fingerprint: string;
}

export function createSecretBox(secret: string): SecretBox {
  const key = createHash('sha256').update(`ferry-secrets:${secret}`).digest();
  return {
    fingerprint: createHash('sha256').update(key).digest('hex').slice(0, 16),
    encrypt(value) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return [
        'v1',
        iv.toString('base64'),
        cipher.getAuthTag().toString('base64'),
        body.toString('base64'),
      ].join(':');
    },
    decrypt(sealed) {
      const [version, iv, tag, body] = sealed.split(':');
      if (version !== 'v1' || !iv || !tag || body === undefined) {
        throw new FerryError('internal', 'stored secret has an unknown format');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
      return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
    },
  };
}

/** A key for signing download URLs, derived from the secret key so that no second secret is needed. */
export function deriveSigningKey(secret: string): string {
  return createHash('sha256').update(`ferry-signing:${secret}`).digest('hex');
}

/** FERRY_SECRET_KEY when set; otherwise the key file of the data dir, created (mode 0600) on first use. */
export function resolveSecretKey(
  configured: string | undefined,
  dataDir: string,
): { key: string; generated: boolean } {
  if (configured) return { key: configured, generated: false };
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, generated: true };
}
