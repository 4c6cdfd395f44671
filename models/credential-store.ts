import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from './model-on.ts';

export const CREDENTIAL_KINDS = ['connection_url', 'password', 'token'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/**
 * One encrypted secret (AES-256-GCM, see core/credentials/credential-vault.ts). Only ciphertext, IV, auth tag
 * and the id of the key that sealed it are stored; the plaintext and the key never reach the database.
 * `_id` names the owner (`connection:<DatabaseConnection _id>`) and is also the GCM additional data, so a
 * ciphertext copied onto another record fails to decrypt.
 */
export interface CredentialStoreFields {
  _id: string;
  kind: CredentialKind;
  algorithm: 'aes-256-gcm';
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
  /** First 8 hex digits of SHA-256 of the key, to tell "wrong key" from "tampered data". */
  keyId: string;
  lastValidatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type CredentialStoreModel = Model<CredentialStoreFields>;

/** Byte length of a Buffer or of the BSON Binary that update validators receive. */
function byteLength(value: Buffer | { buffer: Uint8Array; position?: number }): number {
  if (Buffer.isBuffer(value)) return value.length;
  return value.position ?? value.buffer.length;
}

const bytes = (length: number, what: string) => ({
  validator: (value: Buffer | null) => value == null || byteLength(value) === length,
  message: `${what} must be ${length} bytes`,
});

export const credentialStoreSchema = new Schema<CredentialStoreFields>(
  {
    _id: { type: String, required: true, match: [/^[a-z_]+:[^\s]+$/, 'expected "<owner kind>:<owner id>"'] },
    kind: { type: String, enum: CREDENTIAL_KINDS, required: true },
    algorithm: { type: String, enum: ['aes-256-gcm'], required: true, default: 'aes-256-gcm' },
    ciphertext: { type: Buffer, required: true },
    iv: { type: Buffer, required: true, validate: bytes(12, 'iv') },
    authTag: { type: Buffer, required: true, validate: bytes(16, 'authTag') },
    keyId: { type: String, required: true, match: [/^[0-9a-f]{8}$/, 'expected 8 hex digits'] },
    lastValidatedAt: { type: Date, default: null },
  },
  { collection: 'credentialstores', timestamps: true, versionKey: false },
);
credentialStoreSchema.index({ keyId: 1 });

/** The CredentialStore model on a given connection. */
export function credentialStoreModel(connection: Connection): CredentialStoreModel {
  return modelOn<CredentialStoreFields>(connection, 'CredentialStore', credentialStoreSchema);
}
