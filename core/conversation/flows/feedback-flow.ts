/** 👍/👎 on a result: one Feedback per user and answer (the button value is `<session id>:<turn>`). */
import type { ButtonClick } from '../chat-platform.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';

async function record(turn: Turn, click: ButtonClick): Promise<void> {
  // A session id (a thread key) has colons of its own: the turn follows the last one.
  const cut = click.value.lastIndexOf(':');
  const sessionId = click.value.slice(0, cut);
  const entry = Number(click.value.slice(cut + 1));
  if (cut <= 0 || !Number.isInteger(entry)) return;
  // A session is its thread: feedback on another thread's answer, clicked from here, is not taken.
  if (sessionId !== turn.threadKey) {
    await turn.privately('This button belongs to an answer in another thread.');
    return;
  }
  await turn.services.sessions.recordFeedback({
    sessionId,
    turn: entry,
    userKey: turn.userKey,
    rating: click.action === 'feedback_up' ? 'up' : 'down',
  });
  await turn.privately('Thanks for the feedback!');
}

export const feedbackFlow: Flow = {
  buttons: {
    feedback_up: { handle: record },
    feedback_down: { handle: record },
  },
};
