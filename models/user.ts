import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from './model-on.ts';

export const USER_ROLES = ['admin', 'approver', 'member'] as const;
export type UserRole = (typeof USER_ROLES)[number];

const IDENTITY = /^(slack|discord|shell):[^:\s]+:[^:\s]+$/;

/**
 * A person, keyed by their primary platform identity (`slack:T1:U1`). The identity is the `_id` because on
 * FerretDB 1.x only `_id` equality is filtered inside the storage engine, so the per-message lookup stays cheap.
 */
export interface UserFields {
  /** Primary identity, `platform:workspace:user`. */
  _id: string;
  /** Further identities of the same person (e.g. their Discord account); never unique-indexed (see DESIGN §6). */
  linkedIdentities: string[];
  displayName: string;
  role: UserRole;
  lastSeenAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type UserModel = Model<UserFields>;

export const userSchema = new Schema<UserFields>(
  {
    _id: {
      type: String,
      required: true,
      match: [IDENTITY, 'expected a platform identity like slack:T1:U1'],
    },
    linkedIdentities: {
      type: [{ type: String, match: [IDENTITY, 'expected a platform identity like discord:G1:U1'] }],
      default: [],
    },
    displayName: { type: String, required: true, trim: true, maxlength: 200 },
    role: { type: String, enum: USER_ROLES, required: true, default: 'member' },
    lastSeenAt: { type: Date, default: null },
  },
  { collection: 'users', timestamps: true, versionKey: false },
);
userSchema.index({ linkedIdentities: 1 });

/** The User model on a given connection. */
export function userModel(connection: Connection): UserModel {
  return modelOn<UserFields>(connection, 'User', userSchema);
}
