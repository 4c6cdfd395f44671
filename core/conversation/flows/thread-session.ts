/** The thread's session and connection for a turn: the session's connection, or the channel's default. */
import type { ConnectionProvider, ResolvedConnection, SessionInfo } from '../engine-ports.ts';
import type { Turn } from '../turn.ts';

export interface ThreadSession {
  session: SessionInfo;
  connection: ResolvedConnection;
}

/**
 * Finds the thread's session (opening one titled `title` when there is none) and resolves its connection, which
 * this channel must be allowed to use (PermissionError otherwise). `known` is the session this turn already looked
 * up (found or not), which saves the store a second read.
 */
export async function threadSession(
  turn: Turn,
  connections: ConnectionProvider,
  title: string,
  known?: { session: SessionInfo | undefined },
): Promise<ThreadSession> {
  const existing = known ? known.session : await turn.session();
  const connection = await connections.resolve(turn.thread, existing?.connectionName);
  const session =
    existing ?? (await turn.services.sessions.openSession(turn.thread, turn.user, connection.name, title));
  return { session, connection };
}
