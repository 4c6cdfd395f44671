import type { Types } from 'mongoose';
import type {
  CredentialKind,
  CredentialStoreFields,
  CredentialStoreModel,
} from '../../models/credential-store.ts';
import { NotFoundError } from '../errors.ts';
import type { CredentialVault } from './credential-vault.ts';

/** The CredentialStore `_id` (and GCM context) of a connection's secret. */
export function connectionSecretKey(connectionId: Types.ObjectId | string): string {
  return `connection:${String(connectionId)}`;
}

/** Encrypts and stores (or replaces) a connection's secret, normally its connection string. */
export async function saveConnectionSecret(
  model: CredentialStoreModel,
  vault: CredentialVault,
  connectionId: Types.ObjectId | string,
  secret: string,
  kind: CredentialKind = 'connection_url',
): Promise<void> {
  const _id = connectionSecretKey(connectionId);
  const sealed = vault.encrypt(secret, _id);
  await model.findOneAndUpdate(
    { _id },
    {
      $set: {
        kind,
        algorithm: sealed.algorithm,
        ciphertext: sealed.ciphertext,
        iv: sealed.iv,
        authTag: sealed.authTag,
        keyId: sealed.keyId,
      },
    },
    { upsert: true, runValidators: true, setDefaultsOnInsert: true },
  );
}

/** Loads and decrypts a connection's secret; NotFoundError when none was saved. */
export async function loadConnectionSecret(
  model: CredentialStoreModel,
  vault: CredentialVault,
  connectionId: Types.ObjectId | string,
): Promise<string> {
  const _id = connectionSecretKey(connectionId);
  const record = await model.findById(_id).lean<CredentialStoreFields>();
  if (!record) throw new NotFoundError(`No credential is stored for connection ${String(connectionId)}`);
  return vault.decrypt(record, _id);
}

/** Deletes a connection's secret (when the connection is removed). */
export async function deleteConnectionSecret(
  model: CredentialStoreModel,
  connectionId: Types.ObjectId | string,
): Promise<void> {
  await model.deleteOne({ _id: connectionSecretKey(connectionId) });
}
