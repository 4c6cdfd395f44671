import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from './model-on.ts';

/**
 * 👍/👎 on one answer, optionally with corrected SQL. One per (answer, user): `_id` is
 * `<history entry _id>|<user key>`, so changing a vote is an upsert on the primary key.
 */
export interface FeedbackFields {
  _id: string;
  session: string;
  historyEntry: string;
  user: string;
  rating: 'up' | 'down';
  comment: string | null;
  correctedSql: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type FeedbackModel = Model<FeedbackFields>;

export const feedbackSchema = new Schema<FeedbackFields>(
  {
    _id: { type: String, required: true },
    session: { type: String, ref: 'QuerySession', required: true },
    historyEntry: { type: String, ref: 'QueryHistory', required: true },
    user: { type: String, required: true },
    rating: { type: String, enum: ['up', 'down'], required: true },
    comment: { type: String, default: null, maxlength: 2000 },
    correctedSql: { type: String, default: null, maxlength: 100_000 },
  },
  { collection: 'feedbacks', timestamps: true, versionKey: false },
);
feedbackSchema.index({ historyEntry: 1, user: 1 }, { unique: true });
feedbackSchema.index({ session: 1 });
feedbackSchema.pre('validate', function () {
  if (this._id !== feedbackKey(this.historyEntry, this.user)) {
    this.invalidate('_id', 'Feedback _id must be "<history entry>|<user>"');
  }
});

/** The Feedback model on a given connection. */
export function feedbackModel(connection: Connection): FeedbackModel {
  return modelOn<FeedbackFields>(connection, 'Feedback', feedbackSchema);
}

/** The `_id` of one user's feedback on one history entry. */
export function feedbackKey(historyEntry: string, user: string): string {
  return `${historyEntry}|${user}`;
}

/** Records or changes a user's vote on an answer. */
export async function recordFeedback(
  model: FeedbackModel,
  input: Pick<FeedbackFields, 'session' | 'historyEntry' | 'user' | 'rating'> &
    Partial<Pick<FeedbackFields, 'comment' | 'correctedSql'>>,
): Promise<FeedbackFields> {
  const _id = feedbackKey(input.historyEntry, input.user);
  const doc = await model
    .findOneAndUpdate(
      { _id },
      {
        $set: {
          rating: input.rating,
          comment: input.comment ?? null,
          correctedSql: input.correctedSql ?? null,
        },
        $setOnInsert: { session: input.session, historyEntry: input.historyEntry, user: input.user },
      },
      { upsert: true, returnDocument: 'after', runValidators: true, setDefaultsOnInsert: true },
    )
    .lean<FeedbackFields>();
  return doc!;
}
