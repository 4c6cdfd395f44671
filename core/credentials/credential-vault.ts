/**
 * The credential vault: AES-256-GCM for connection secrets, with node:crypto only.
 *
 * Key material (the vault never reads the environment; config/ passes THREADQL_MASTER_KEY in):
 * - `<base64 of 32 random bytes>` (recommended; `openssl rand -base64 32`) is the key itself;
 * - `passphrase:<text>` derives the key with PBKDF2-SHA256, 100,000 iterations, over the passphrase and a salt.
 *   The salt is deployment configuration, not a secret: pass it as `salt` (e.g. from THREADQL_MASTER_KEY_SALT,
 *   16+ random bytes); without one a fixed, versioned application salt is used. Changing passphrase or salt
 *   changes the key and its key id, so secrets sealed before are reported as sealed with another key.
 *
 * Each secret gets a fresh random 12-byte IV; the 16-byte auth tag detects any change to ciphertext, IV or tag;
 * the key id (first 8 hex of SHA-256 of the key) tells a wrong key apart from tampering. Callers pass a context
 * string (the record's id) that is authenticated as additional data, so a ciphertext moved to another record
 * does not decrypt. Plaintext and key never appear in errors, JSON or inspect output.
 */
import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CredentialError } from '../errors.ts';

export const VAULT_ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const PBKDF2_ITERATIONS = 100_000;
/** Salt used for a passphrase when the deployment configures none. */
export const DEFAULT_PASSPHRASE_SALT = 'threadql/credential-vault/v1';
const PASSPHRASE_PREFIX = 'passphrase:';

/** What is stored for one secret: never the plaintext. */
export interface SealedSecret {
  algorithm: typeof VAULT_ALGORITHM;
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  keyId: string;
}

/** First 8 hex digits of SHA-256 of a key: names the key without revealing it. */
export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** Derives a 32-byte key from a passphrase with PBKDF2-SHA256 (100,000 iterations by default). */
export function deriveKey(
  passphrase: string,
  salt: string | Uint8Array,
  iterations = PBKDF2_ITERATIONS,
): Buffer {
  if (!passphrase) throw new CredentialError('credential_key_invalid', 'The master key passphrase is empty');
  if (iterations < PBKDF2_ITERATIONS) {
    throw new CredentialError(
      'credential_key_invalid',
      `PBKDF2 needs at least ${PBKDF2_ITERATIONS} iterations`,
    );
  }
  return pbkdf2Sync(passphrase, salt, iterations, KEY_BYTES, 'sha256');
}

/** Turns a THREADQL_MASTER_KEY value into the 32-byte key (see the module comment for the two forms). */
export function parseMasterKey(
  value: string | undefined,
  options: { salt?: string | Uint8Array } = {},
): Buffer {
  if (value === undefined || value.trim() === '') {
    throw new CredentialError('credential_key_missing', 'THREADQL_MASTER_KEY is not set', {
      hint: 'Set it to 32 random bytes in base64 (openssl rand -base64 32), or to passphrase:<your passphrase>.',
    });
  }
  const trimmed = value.trim();
  if (trimmed.startsWith(PASSPHRASE_PREFIX)) {
    return deriveKey(trimmed.slice(PASSPHRASE_PREFIX.length), options.salt ?? DEFAULT_PASSPHRASE_SALT);
  }
  const key = /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new CredentialError(
      'credential_key_invalid',
      `THREADQL_MASTER_KEY must be ${KEY_BYTES} bytes in base64 (got ${key.length} bytes)`,
      { hint: 'Generate one with: openssl rand -base64 32 — or use passphrase:<your passphrase>.' },
    );
  }
  return key;
}

/** Seals and opens secrets with one key. */
export class CredentialVault {
  readonly #key: Buffer;
  /** Names the key (first 8 hex of its SHA-256); stored with every secret. */
  readonly keyId: string;

  /** Takes the raw 32-byte key; anything else is `credential_key_invalid`. */
  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
      throw new CredentialError('credential_key_invalid', `The vault key must be exactly ${KEY_BYTES} bytes`);
    }
    this.#key = Buffer.from(key);
    this.keyId = keyIdOf(this.#key);
  }

  /** A vault from a THREADQL_MASTER_KEY value (base64 key or `passphrase:<text>`). */
  static fromMasterKey(
    value: string | undefined,
    options: { salt?: string | Uint8Array } = {},
  ): CredentialVault {
    return new CredentialVault(parseMasterKey(value, options));
  }

  /** A vault keyed by PBKDF2-SHA256 over a passphrase and salt. */
  static fromPassphrase(
    passphrase: string,
    salt: string | Uint8Array = DEFAULT_PASSPHRASE_SALT,
  ): CredentialVault {
    return new CredentialVault(deriveKey(passphrase, salt));
  }

  /** Encrypts `plaintext` under a fresh IV; `context` (e.g. the record id) is authenticated, not stored. */
  encrypt(plaintext: string, context = ''): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(VAULT_ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { algorithm: VAULT_ALGORITHM, ciphertext, iv, authTag: cipher.getAuthTag(), keyId: this.keyId };
  }

  /** Decrypts a sealed secret; a wrong key, another context or any altered byte is a CredentialError. */
  decrypt(secret: SealedSecret, context = ''): string {
    if (secret.keyId !== this.keyId) {
      throw new CredentialError(
        'credential_decrypt_failed',
        `This secret was encrypted with key id ${secret.keyId}, but the configured master key has key id ${this.keyId}`,
        {
          hint: 'Start threadql with the THREADQL_MASTER_KEY (and salt) the secret was saved with, or save the connection again.',
          detail: { reason: 'key_mismatch', storedKeyId: secret.keyId, keyId: this.keyId },
        },
      );
    }
    const iv = toBuffer(secret.iv);
    const authTag = toBuffer(secret.authTag);
    if (secret.algorithm !== VAULT_ALGORITHM || iv.length !== IV_BYTES || authTag.length !== TAG_BYTES) {
      throw tampered();
    }
    try {
      const decipher = createDecipheriv(VAULT_ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(authTag);
      return Buffer.concat([decipher.update(toBuffer(secret.ciphertext)), decipher.final()]).toString('utf8');
    } catch (error) {
      throw tampered(error);
    }
  }

  /** Only the key id: a vault serialised into logs shows nothing secret. */
  toJSON(): { keyId: string; algorithm: string } {
    return { keyId: this.keyId, algorithm: VAULT_ALGORITHM };
  }

  [inspect.custom](): string {
    return `CredentialVault { keyId: '${this.keyId}', algorithm: '${VAULT_ALGORITHM}' }`;
  }
}

function tampered(cause?: unknown): CredentialError {
  return new CredentialError(
    'credential_decrypt_failed',
    'A stored credential failed its integrity check: its ciphertext, IV or auth tag was altered, or it belongs to another record',
    { cause, detail: { reason: 'integrity' } },
  );
}

/** Accepts Buffers and BSON Binary-like values read back from MongoDB. */
function toBuffer(value: Uint8Array | { buffer: Uint8Array }): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.from(value.buffer);
}
