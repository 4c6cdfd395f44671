import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CredentialError } from '../../core/errors.ts';
import {
  CredentialVault,
  DEFAULT_PASSPHRASE_SALT,
  deriveKey,
  keyIdOf,
  parseMasterKey,
  type SealedSecret,
} from '../../core/credentials/credential-vault.ts';

const SECRET = 'postgres://app:s3cr3t-Pa55@db.internal:5432/shop';
const key = randomBytes(32);
const vault = new CredentialVault(key);

function flip(buffer: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

describe('CredentialVault', () => {
  it('round-trips a secret with a fresh 12-byte IV, a 16-byte tag and the key id', () => {
    const a = vault.encrypt(SECRET, 'connection:1');
    const b = vault.encrypt(SECRET, 'connection:1');
    expect(a.iv).toHaveLength(12);
    expect(a.authTag).toHaveLength(16);
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.keyId).toBe(keyIdOf(key));
    expect(a.keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(a.ciphertext.toString('utf8')).not.toContain('s3cr3t');
    expect(vault.decrypt(a, 'connection:1')).toBe(SECRET);
    expect(vault.decrypt(vault.encrypt('', 'x'), 'x')).toBe('');
    expect(vault.decrypt(vault.encrypt('ünïcødé 🔑', 'x'), 'x')).toBe('ünïcødé 🔑');
  });

  it.each([
    ['ciphertext', (s: SealedSecret) => ({ ...s, ciphertext: flip(s.ciphertext, 5) })],
    ['iv', (s: SealedSecret) => ({ ...s, iv: flip(s.iv) })],
    ['auth tag', (s: SealedSecret) => ({ ...s, authTag: flip(s.authTag, 15) })],
    ['truncated tag', (s: SealedSecret) => ({ ...s, authTag: s.authTag.subarray(0, 12) })],
    ['truncated ciphertext', (s: SealedSecret) => ({ ...s, ciphertext: s.ciphertext.subarray(1) })],
  ])('detects a tampered %s (credential_decrypt_failed), without echoing the secret', (_what, tamper) => {
    const sealed = vault.encrypt(SECRET, 'connection:1');
    const error = (() => {
      try {
        vault.decrypt(tamper(sealed), 'connection:1');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ code: 'credential_decrypt_failed', detail: { reason: 'integrity' } });
    expect(
      JSON.stringify({ message: (error as Error).message, detail: (error as CredentialError).detail }),
    ).not.toContain('s3cr3t');
  });

  it('refuses a ciphertext moved to another record (context is authenticated)', () => {
    const sealed = vault.encrypt(SECRET, 'connection:1');
    expect(() => vault.decrypt(sealed, 'connection:2')).toThrow(
      expect.objectContaining({ code: 'credential_decrypt_failed' }),
    );
  });

  it('names both key ids when the secret was sealed with another key', () => {
    const sealed = vault.encrypt(SECRET, 'c');
    const other = new CredentialVault(randomBytes(32));
    expect(() => other.decrypt(sealed, 'c')).toThrow(
      `This secret was encrypted with key id ${vault.keyId}, but the configured master key has key id ${other.keyId}`,
    );
    // A forged key id does not help: the data still has to authenticate.
    expect(() => other.decrypt({ ...sealed, keyId: other.keyId }, 'c')).toThrow(
      expect.objectContaining({ code: 'credential_decrypt_failed', detail: { reason: 'integrity' } }),
    );
  });

  it('accepts THREADQL_MASTER_KEY as 32 bytes of base64 and refuses anything else as credential_key_invalid', () => {
    const b64 = key.toString('base64');
    expect(CredentialVault.fromMasterKey(b64).keyId).toBe(vault.keyId);
    expect(CredentialVault.fromMasterKey(`  ${b64}\n`).keyId).toBe(vault.keyId);
    for (const bad of [
      randomBytes(16).toString('base64'),
      randomBytes(33).toString('base64'),
      'not base64 at all!',
      key.toString('hex'),
    ]) {
      expect(() => CredentialVault.fromMasterKey(bad)).toThrow(
        expect.objectContaining({ code: 'credential_key_invalid' }),
      );
    }
    expect(() => parseMasterKey(randomBytes(16).toString('base64'))).toThrow(
      'THREADQL_MASTER_KEY must be 32 bytes in base64 (got 16 bytes)',
    );
    expect(() => new CredentialVault(randomBytes(31))).toThrow(
      expect.objectContaining({ code: 'credential_key_invalid' }),
    );
    expect(() => CredentialVault.fromMasterKey(undefined)).toThrow(
      expect.objectContaining({ code: 'credential_key_missing' }),
    );
    expect(() => CredentialVault.fromMasterKey('   ')).toThrow(
      expect.objectContaining({ code: 'credential_key_missing' }),
    );
  });

  it('derives a key from a passphrase with PBKDF2-SHA256 (100,000 iterations) and a salt', () => {
    const fromEnv = CredentialVault.fromMasterKey('passphrase:correct horse battery staple', {
      salt: 'deploy-salt-1',
    });
    const direct = CredentialVault.fromPassphrase('correct horse battery staple', 'deploy-salt-1');
    expect(fromEnv.keyId).toBe(direct.keyId);
    expect(direct.keyId).toBe(keyIdOf(deriveKey('correct horse battery staple', 'deploy-salt-1', 100_000)));
    const sealed = fromEnv.encrypt(SECRET, 'c');
    expect(direct.decrypt(sealed, 'c')).toBe(SECRET);
    // Another salt or passphrase is another key, reported as a key id mismatch.
    const otherSalt = CredentialVault.fromPassphrase('correct horse battery staple', 'deploy-salt-2');
    expect(otherSalt.keyId).not.toBe(direct.keyId);
    expect(() => otherSalt.decrypt(sealed, 'c')).toThrow(/key id/);
    expect(CredentialVault.fromMasterKey('passphrase:pw').keyId).toBe(
      keyIdOf(deriveKey('pw', DEFAULT_PASSPHRASE_SALT)),
    );
    expect(() => CredentialVault.fromMasterKey('passphrase:')).toThrow(
      expect.objectContaining({ code: 'credential_key_invalid' }),
    );
    expect(() => deriveKey('pw', 'salt', 1000)).toThrow(/100000 iterations/);
  });

  it('never shows the key in JSON or inspect output', () => {
    const text = `${JSON.stringify({ vault })} ${inspect(vault, { showHidden: true, depth: 5 })} ${String(Object.keys(vault))}`;
    expect(text).toContain(vault.keyId);
    expect(text).not.toContain(key.toString('base64'));
    expect(text).not.toContain(key.toString('hex'));
    expect(JSON.parse(JSON.stringify(vault))).toEqual({ keyId: vault.keyId, algorithm: 'aes-256-gcm' });
  });
});
