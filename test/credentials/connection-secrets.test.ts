import { randomBytes } from 'node:crypto';
import mongoose, { Types, type Connection } from 'mongoose';
import {
  connectionSecretKey,
  deleteConnectionSecret,
  loadConnectionSecret,
  saveConnectionSecret,
} from '../../core/credentials/connection-secrets.ts';
import { CredentialVault } from '../../core/credentials/credential-vault.ts';
import { credentialStoreModel, type CredentialStoreModel } from '../../models/credential-store.ts';
import { isolatedMongoUri } from '../support/services.ts';

const PASSWORD = 'Sup3r-Secret-Pw';
const URL_WITH_SECRET = `mysql://report:${PASSWORD}@10.0.0.7:3306/shop`;

/** Bytes of a Buffer or of a BSON Binary read back lean. */
function bytesOf(value: unknown): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from((value as { buffer: Uint8Array }).buffer);
}

let connection: Connection;
let CredentialStore: CredentialStoreModel;
const vault = new CredentialVault(randomBytes(32));

beforeAll(async () => {
  connection = await mongoose.createConnection(isolatedMongoUri('credentials')).asPromise();
  CredentialStore = credentialStoreModel(connection);
  await CredentialStore.init();
});
afterAll(async () => {
  await connection.dropDatabase();
  await connection.close();
});

describe('connection secrets in CredentialStore', () => {
  it('stores ciphertext, IV, tag and key id only; the plaintext appears nowhere in the stored document', async () => {
    const id = new Types.ObjectId();
    await saveConnectionSecret(CredentialStore, vault, id, URL_WITH_SECRET);
    expect(await loadConnectionSecret(CredentialStore, vault, id)).toBe(URL_WITH_SECRET);

    const raw = await connection
      .db!.collection('credentialstores')
      .findOne({ _id: connectionSecretKey(id) as never });
    expect(raw).not.toBeNull();
    expect(Object.keys(raw!).sort()).toEqual(
      ['_id', 'algorithm', 'authTag', 'ciphertext', 'createdAt', 'iv', 'keyId', 'kind', 'updatedAt'].sort(),
    );
    expect(raw!.keyId).toBe(vault.keyId);
    expect(raw!.iv.buffer).toHaveLength(12);
    expect(raw!.authTag.buffer).toHaveLength(16);
    const everyByte = Buffer.concat(
      Object.values(raw!).map((v) =>
        v?.buffer instanceof Uint8Array ? Buffer.from(v.buffer) : Buffer.from(JSON.stringify(v ?? null)),
      ),
    );
    for (const needle of [PASSWORD, URL_WITH_SECRET, 'report:']) {
      expect(everyByte.includes(Buffer.from(needle))).toBe(false);
      expect(JSON.stringify(raw)).not.toContain(needle);
    }
  });

  it('replaces a secret in place with a fresh IV', async () => {
    const id = new Types.ObjectId();
    await saveConnectionSecret(CredentialStore, vault, id, 'first');
    const before = await CredentialStore.findById(connectionSecretKey(id)).lean();
    await saveConnectionSecret(CredentialStore, vault, id, 'second');
    const after = await CredentialStore.findById(connectionSecretKey(id)).lean();
    expect(bytesOf(after!.iv).equals(bytesOf(before!.iv))).toBe(false);
    expect(bytesOf(after!.iv)).toHaveLength(12);
    expect(await loadConnectionSecret(CredentialStore, vault, id)).toBe('second');
    expect(await CredentialStore.countDocuments({ _id: connectionSecretKey(id) })).toBe(1);
    await deleteConnectionSecret(CredentialStore, id);
    await expect(loadConnectionSecret(CredentialStore, vault, id)).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('a wrong key is reported by key id; a ciphertext copied onto another connection does not decrypt', async () => {
    const a = new Types.ObjectId();
    const b = new Types.ObjectId();
    await saveConnectionSecret(CredentialStore, vault, a, URL_WITH_SECRET);
    const other = new CredentialVault(randomBytes(32));
    const wrongKey = await loadConnectionSecret(CredentialStore, other, a).catch((e: Error) => e);
    expect(wrongKey).toMatchObject({
      code: 'credential_decrypt_failed',
      detail: { reason: 'key_mismatch', storedKeyId: vault.keyId },
    });
    expect((wrongKey as Error).message).not.toContain(PASSWORD);

    const stolen = await CredentialStore.findById(connectionSecretKey(a)).lean();
    await CredentialStore.create({ ...stolen, _id: connectionSecretKey(b) });
    await expect(loadConnectionSecret(CredentialStore, vault, b)).rejects.toMatchObject({
      code: 'credential_decrypt_failed',
    });
  });

  it('detects a ciphertext tampered with in the database', async () => {
    const id = new Types.ObjectId();
    await saveConnectionSecret(CredentialStore, vault, id, URL_WITH_SECRET);
    const doc = await CredentialStore.findById(connectionSecretKey(id)).lean();
    const altered = Buffer.from(bytesOf(doc!.ciphertext));
    altered[0] = altered[0]! ^ 0xff;
    await CredentialStore.updateOne({ _id: connectionSecretKey(id) }, { $set: { ciphertext: altered } });
    await expect(loadConnectionSecret(CredentialStore, vault, id)).rejects.toMatchObject({
      code: 'credential_decrypt_failed',
      detail: { reason: 'integrity' },
    });
  });

  it('validates the stored shape', async () => {
    const bad = new CredentialStore({
      _id: 'connection:x',
      kind: 'connection_url',
      ciphertext: Buffer.alloc(3),
      iv: Buffer.alloc(8),
      authTag: Buffer.alloc(16),
      keyId: 'XYZ',
    });
    expect(Object.keys(bad.validateSync()?.errors ?? {}).sort()).toEqual(['iv', 'keyId']);
  });
});
