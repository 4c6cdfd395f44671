/**
 * Guarded status fields. Each model with a lifecycle declares its transition table here, and every status
 * change goes through `transition()`, which is atomic against concurrent writers on both MongoDB and FerretDB 1.x.
 *
 * Why not `findOneAndUpdate({_id, status: from}, {$set: {status: to}})`: FerretDB 1.x (SQLite backend) runs
 * updates as read-modify-write without isolation, so two concurrent conditional updates can both "win" (measured:
 * 2–4 of 4 racers won; 50 concurrent `$inc` produced 9 distinct values). The one primitive that is atomic on both
 * servers is an insert against a unique key. So a transition claims the document's next status revision by
 * inserting `{_id: "<entity>:<doc>:<revision>"}` into the StateTransition log; exactly one caller can insert a
 * given revision, the others re-read and are judged against the state the winner produced. The log is the truth;
 * the document's `status`/`statusRevision` are a copy that only a winner writes, and only forward (a write never
 * lowers statusRevision). Should that copy lag (a winner crashed between claim and update, or FerretDB lost the
 * update to a concurrent write of another field), the next winner replays the entries it misses, and
 * `readCurrent()` reads a document with the log applied.
 */
import type { Model, Query, Schema } from 'mongoose';
import { NotFoundError, StateTransitionError, ThreadqlError } from '../core/errors.ts';
import type { StateTransitionModel } from './state-transition.ts';

/** A lifecycle: its states, where each may go, where documents may start, and which timestamp entering a state sets. */
export interface StateMachine<S extends string> {
  readonly entity: string;
  readonly states: readonly S[];
  readonly initial: readonly S[];
  /** Allowed next states of each state. */
  readonly table: Readonly<Record<S, readonly S[]>>;
  /** Entering a state stamps this field with the transition time, e.g. `applied` → `appliedAt`. */
  readonly stamps: Readonly<Partial<Record<S, string>>>;
}

/** Declares a lifecycle; every state named in `table` must be listed in `states`. */
export function defineStateMachine<const S extends string>(spec: {
  entity: string;
  table: Record<S, readonly NoInfer<S>[]>;
  initial: readonly NoInfer<S>[];
  stamps?: Partial<Record<NoInfer<S>, string>>;
}): StateMachine<S> {
  const states = Object.keys(spec.table) as S[];
  const machine: StateMachine<S> = {
    entity: spec.entity,
    states,
    initial: spec.initial,
    table: spec.table,
    stamps: (spec.stamps ?? {}) as Partial<Record<S, string>>,
  };
  return Object.freeze(machine);
}

/** The states `from` may move to (empty for a final state). */
export function nextStates<S extends string>(machine: StateMachine<S>, from: S): readonly S[] {
  return machine.table[from] ?? [];
}

/** True when the table allows `from` → `to`. */
export function canTransition<S extends string>(machine: StateMachine<S>, from: S, to: S): boolean {
  return nextStates(machine, from).includes(to);
}

/** Throws StateTransitionError unless `from` → `to` is in the table. */
export function assertTransition<S extends string>(machine: StateMachine<S>, from: S, to: S): void {
  if (!canTransition(machine, from, to))
    throw new StateTransitionError(machine.entity, from, to, nextStates(machine, from));
}

/** Fields every guarded document carries. */
export interface StatusFields<S extends string> {
  status: S;
  /** Number of transitions applied; the next transition claims revision + 1. */
  statusRevision: number;
  statusChangedAt?: Date | null;
}

/** Schema paths for a guarded status; spread into a schema definition. */
export function statusPaths<S extends string>(machine: StateMachine<S>) {
  return {
    status: { type: String, enum: machine.states as S[], required: true, default: machine.initial[0] },
    statusRevision: { type: Number, required: true, default: 0, min: 0 },
    statusChangedAt: { type: Date, default: null },
  };
}

const sanctioned = new WeakSet<object>();
const STATUS_KEYS = ['status', 'statusRevision'];

function touchedStatusKeys(update: unknown): string[] {
  if (!update || typeof update !== 'object' || Array.isArray(update)) return [];
  const touched = new Set<string>();
  for (const [key, value] of Object.entries(update as Record<string, unknown>)) {
    if (key.startsWith('$')) {
      if (key === '$setOnInsert') continue;
      if (value && typeof value === 'object') {
        for (const inner of Object.keys(value)) if (STATUS_KEYS.includes(inner)) touched.add(inner);
      }
    } else if (STATUS_KEYS.includes(key)) touched.add(key);
  }
  return [...touched];
}

function refuse(machine: StateMachine<string>, how: string): never {
  throw new ThreadqlError(
    'illegal_transition',
    `${machine.entity}.status cannot be changed by ${how}; use transition() so the change is checked and atomic`,
    { detail: { entity: machine.entity } },
  );
}

/** Makes `status` writable only through transition(): new documents must start in an initial state. */
export function guardStatus<S extends string>(schema: Schema, machine: StateMachine<S>): void {
  schema.pre('validate', function () {
    const doc = this as unknown as { isNew: boolean; status: S; isModified(path: string): boolean };
    if (doc.isNew) {
      if (!machine.initial.includes(doc.status)) {
        throw new StateTransitionError(machine.entity, '(new)', doc.status, machine.initial);
      }
    } else if (doc.isModified('status') || doc.isModified('statusRevision')) {
      refuse(machine, 'save()');
    }
  });
  const checkQuery = function (this: Query<unknown, unknown>) {
    if (sanctioned.has(this)) return;
    const update = this.getUpdate();
    if (touchedStatusKeys(update).length > 0)
      refuse(machine, (this as unknown as { op?: string }).op ?? 'an update');
    const setOnInsert = (update as { $setOnInsert?: { status?: S } } | null)?.$setOnInsert;
    if (setOnInsert?.status !== undefined && !machine.initial.includes(setOnInsert.status)) {
      throw new StateTransitionError(machine.entity, '(new)', setOnInsert.status, machine.initial);
    }
  };
  for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate'] as const) schema.pre(op, checkQuery);
  for (const op of ['replaceOne', 'findOneAndReplace'] as const) {
    schema.pre(op, function (this: Query<unknown, unknown>) {
      if (!sanctioned.has(this)) refuse(machine, op);
    });
  }
}

export interface TransitionOptions<S extends string> {
  /** Expected current state (compare-and-set); a different current state is a conflict. */
  from?: S;
  /** Extra fields set together with the status (e.g. `error`, `approvedBy`). */
  set?: Record<string, unknown>;
  /** Who caused it (user key or `system`), kept in the transition log. */
  actor?: string;
  /** Clock, for tests. */
  now?: Date;
}

interface GuardedDoc {
  _id: unknown;
  status: string;
  statusRevision?: number;
}

interface LoggedTransition {
  to: string;
  at: Date;
  set?: Record<string, unknown> | null;
}

const MAX_ATTEMPTS = 25;
const DUPLICATE_KEY = 11000;

/** True for a MongoDB duplicate-key error (unique index violation), however the driver wrapped it. */
export function isDuplicateKeyError(error: unknown): boolean {
  const e = error as { code?: number; writeErrors?: { code?: number }[] } | null;
  return e?.code === DUPLICATE_KEY || (e?.writeErrors ?? []).some((w) => w.code === DUPLICATE_KEY);
}

function fieldsOf(machine: StateMachine<string>, entry: LoggedTransition): Record<string, unknown> {
  const stamp = machine.stamps[entry.to];
  return {
    ...(stamp ? { [stamp]: entry.at } : {}),
    ...(entry.set ?? {}),
    status: entry.to,
    statusChangedAt: entry.at,
  };
}

/**
 * Moves one document to `to` if the table allows it from its current state; atomic: of concurrent callers
 * making conflicting moves exactly one succeeds, the others get StateTransitionError (or a `conflict` error when
 * `from` was given and no longer holds). Returns the updated document (lean).
 */
export async function transition<T extends GuardedDoc, S extends string>(
  model: Model<T>,
  log: StateTransitionModel,
  machine: StateMachine<S>,
  id: T['_id'],
  to: S,
  options: TransitionOptions<S> = {},
): Promise<T> {
  if (!machine.states.includes(to)) {
    throw new StateTransitionError(machine.entity, '(any)', to, machine.states);
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const doc = await model.findById(id, { status: 1, statusRevision: 1 }).lean<GuardedDoc>();
    if (!doc) throw new NotFoundError(`${machine.entity} ${String(id)} does not exist`);
    let state = doc.status as S;
    let revision = doc.statusRevision ?? 0;
    // Claims the document does not show yet (a winner between claim and update, or a lost write) are replayed.
    // Looked up only when they can matter: after losing a claim, or before refusing a move.
    const missed: LoggedTransition[] = [];
    const catchUp = async () => {
      for (;;) {
        const next = await log
          .findById(transitionKey(machine.entity, id, revision + 1))
          .lean<LoggedTransition>();
        if (!next) return;
        missed.push(next);
        state = next.to as S;
        revision += 1;
      }
    };
    const refused = () =>
      !canTransition(machine, state, to) || (options.from !== undefined && state !== options.from);
    if (attempt > 0 || refused()) await catchUp();
    if (refused()) {
      // No write here: a loser's view of the log may already be stale, and its write could undo a newer winner's.
      if (!canTransition(machine, state, to)) {
        throw new StateTransitionError(machine.entity, state, to, nextStates(machine, state));
      }
      throw new ThreadqlError(
        'conflict',
        `${machine.entity} changed meanwhile: expected "${options.from}", found "${state}"`,
        { detail: { entity: machine.entity, expected: options.from, found: state, to } },
      );
    }
    const at = options.now ?? new Date();
    const entry = { to, at, set: options.set ?? null };
    try {
      await log.create({
        _id: transitionKey(machine.entity, id, revision + 1),
        entity: machine.entity,
        doc: String(id),
        revision: revision + 1,
        from: state,
        to,
        at,
        actor: options.actor ?? null,
        set: options.set ?? null,
      });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      // Someone else took this revision; back off a little and judge again against their result.
      await sleep(Math.random() * Math.min(20, 2 * (attempt + 1)));
      continue;
    }
    const fields = Object.assign({}, ...missed.map((m) => fieldsOf(machine, m)), fieldsOf(machine, entry), {
      statusRevision: revision + 1,
    });
    const updated = await apply(model, id, fields, revision + 1);
    if (updated) return updated;
    // A later winner already wrote past this revision (it replayed ours on the way).
    const current = await readCurrent(model, log, machine, id);
    if (!current) throw new NotFoundError(`${machine.entity} ${String(id)} does not exist`);
    return current;
  }
  throw new ThreadqlError('conflict', `${machine.entity} ${String(id)} is changing too fast; try again`, {
    detail: { entity: machine.entity, to },
  });
}

/** Writes a winner's fields; only forward, so a late write never lowers the document's revision. */
async function apply<T extends GuardedDoc>(
  model: Model<T>,
  id: T['_id'],
  fields: Record<string, unknown>,
  revision: number,
) {
  const query = model
    .findOneAndUpdate(
      {
        _id: id,
        $or: [{ statusRevision: { $lt: revision } }, { statusRevision: { $exists: false } }],
      } as never,
      { $set: fields },
      {
        returnDocument: 'after',
      },
    )
    .lean<T>();
  sanctioned.add(query);
  return query;
}

/**
 * A document as the transition log says it is now: the stored copy with any transitions it has not caught up
 * with applied (in memory). Read status through this where a decision depends on it.
 */
export async function readCurrent<T extends GuardedDoc, S extends string>(
  model: Model<T>,
  log: StateTransitionModel,
  machine: StateMachine<S>,
  id: T['_id'],
): Promise<T | null> {
  const doc = await model.findById(id).lean<T>();
  if (!doc) return null;
  let revision = doc.statusRevision ?? 0;
  let current: T = doc;
  for (;;) {
    const next = await log.findById(transitionKey(machine.entity, id, revision + 1)).lean<LoggedTransition>();
    if (!next) return current;
    revision += 1;
    current = { ...current, ...fieldsOf(machine, next), statusRevision: revision };
  }
}

/** The transition log key of one revision of one document. */
export function transitionKey(entity: string, id: unknown, revision: number): string {
  return `${entity}:${String(id)}:${revision}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
