/**
 * The renderers' tables, shaped for Slack: the text table escaped for mrkdwn at Slack's code-block width, and the
 * native table block where the result suits one.
 */
import type { types } from '@slack/bolt';
import { renderSlackTableBlock } from '../../renderers/table/slack-table-block.ts';
import { renderTextTable } from '../../renderers/table/text-table.ts';
import type { SlackTableRenderers } from './reply-to-blocks.ts';
import { SLACK_LIMITS } from './slack-text.ts';

/** SlackTableRenderers over renderers/table, for code blocks `width` characters wide. */
export function slackTableRenderers(width: number): SlackTableRenderers {
  return {
    textTable(result, previewRows) {
      // Leave room for the fences so one table chunk normally fits one section block.
      const t = renderTextTable(result, {
        maxWidth: width,
        maxRows: previewRows,
        escape: 'slack',
        maxChars: SLACK_LIMITS.textObject * 4,
      });
      return { table: t.table, caption: t.caption };
    },
    tableBlock(result, previewRows) {
      const t = renderSlackTableBlock(result, { maxRows: previewRows });
      return t.ok ? { block: t.block as types.AnyBlock, caption: t.caption } : undefined;
    },
  };
}
