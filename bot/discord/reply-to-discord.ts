/**
 * Reply → one Discord message, as the raw REST body plus files. Pure: no client, no network.
 *
 * Layout. A reply with code is a *card*: its text and code go into one embed (SQL in a ```sql block,
 * description ≤ 4,096), context lines into the embed footer, tables into the message content (a code block
 * is wider there than in an embed). Any other reply is a *plain* message: text, tables and context (as small
 * `-#` subtext) in order in the content (≤ 2,000). Text arrives in Slack's mrkdwn: `*bold*` becomes
 * `**bold**` (plain in embed footers, which render no markdown). Either way buttons become action rows and images and
 * files attachments. Whatever exceeds a
 * Discord limit is cut with a visible note; building a message never fails.
 */
import { ButtonStyle as DiscordButtonStyle, ComponentType, MessageFlags } from './discord-js.ts';
import type {
  APIActionRowComponent,
  APIAttachment,
  APIButtonComponentWithCustomId,
  APIEmbed,
  APIMessageTopLevelComponent,
} from 'discord.js';
import type { Button, FileAttachment, Reply, ReplyPart } from '../../core/conversation/chat-platform.ts';
import { renderTextTable } from '../../renderers/table/text-table.ts';
import { encodeCustomId } from './custom-id.ts';
import { DISCORD_LIMITS } from './discord-limits.ts';
import { toDiscordMarkdown, withoutSlackEmphasis } from './discord-markdown.ts';
import {
  codeTextBlock,
  fitBlocks,
  textBlock,
  truncateText,
  truncationNote,
  type TextBlock,
} from './discord-text.ts';

/** A file as @discordjs/rest uploads it (multipart field `files[i]`). */
export interface DiscordFile {
  name: string;
  data: Buffer;
  contentType: string;
}

/** The JSON body of POST/PATCH /channels/:id/messages (and interaction follow-ups). */
export interface DiscordMessageBody {
  content: string;
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  attachments: Pick<APIAttachment, 'id' | 'filename' | 'description'>[];
  /** Nothing pings but the reply's own `mentions` (the approvers of an approval card). */
  allowed_mentions: { parse: []; users?: string[]; roles?: string[] };
  flags?: number;
}

export interface DiscordMessageDraft {
  body: DiscordMessageBody;
  files: DiscordFile[];
  /** Human-readable notes about what was cut or dropped (also shown in the message). */
  notes: string[];
}

export interface ReplyToDiscordOptions {
  /** Characters per code-block line before Discord wraps; tables are laid out to fit. */
  codeBlockWidth?: number;
  /** Per-file upload cap; larger files are left out with a note. */
  maxUploadBytes?: number;
  /** Whether a `mentions` id is a role of the guild (`<@&id>`) rather than a user (`<@id>`). */
  isRole?: (id: string) => boolean;
}

const BUTTON_STYLES: Record<
  NonNullable<Button['style']>,
  typeof DiscordButtonStyle.Primary | typeof DiscordButtonStyle.Danger | typeof DiscordButtonStyle.Secondary
> = {
  primary: DiscordButtonStyle.Primary,
  danger: DiscordButtonStyle.Danger,
  secondary: DiscordButtonStyle.Secondary,
};

/** A reply showing code (the SQL of a confirm card) is a card: code reads best in an embed's frame. */
function isCard(parts: ReplyPart[]): boolean {
  return parts.some((p) => p.type === 'code');
}

function tableBlock(part: Extract<ReplyPart, { type: 'table' }>, width: number): TextBlock {
  const title = part.title ? `**${truncateText(part.title, 200)}**\n` : '';
  const render = (maxChars?: number): string =>
    title +
    renderTextTable(part.result, {
      maxWidth: width,
      maxRows: part.previewRows,
      maxChars: maxChars === undefined ? undefined : maxChars - title.length,
      escape: 'discord',
    }).message;
  const full = render(DISCORD_LIMITS.messageContent);
  return {
    full,
    fit(budget) {
      const shrunk = render(budget);
      return shrunk.length <= budget ? shrunk : undefined;
    },
  };
}

function subtext(text: string): string {
  return text
    .split('\n')
    .map((line) => `-# ${line}`)
    .join('\n');
}

function plainBlock(part: ReplyPart, width: number): TextBlock | undefined {
  switch (part.type) {
    case 'text':
      return textBlock(toDiscordMarkdown(part.text));
    case 'context':
      return textBlock(subtext(toDiscordMarkdown(part.text)));
    case 'code':
      return codeTextBlock(part.code, part.language ?? '');
    case 'table':
      return tableBlock(part, width);
    default:
      return undefined;
  }
}

function buttonRows(
  buttons: Button[],
  notes: string[],
): APIActionRowComponent<APIButtonComponentWithCustomId>[] {
  const seen = new Set<string>();
  const made: APIButtonComponentWithCustomId[] = [];
  for (const button of buttons) {
    const customId = encodeCustomId(button.action, button.value);
    if (customId === undefined) {
      notes.push(
        `button "${button.label}" left out: its id is longer than Discord's ${DISCORD_LIMITS.customId} characters`,
      );
      continue;
    }
    if (seen.has(customId)) continue; // Discord rejects a message whose components repeat a custom_id.
    seen.add(customId);
    made.push({
      type: ComponentType.Button,
      style: BUTTON_STYLES[button.style ?? 'secondary'],
      label: truncateText(button.label, DISCORD_LIMITS.buttonLabel),
      custom_id: customId,
    });
  }
  const max = DISCORD_LIMITS.actionRows * DISCORD_LIMITS.buttonsPerRow;
  if (made.length > max) notes.push(`${made.length - max} button(s) left out: Discord shows at most ${max}`);
  const rows: APIActionRowComponent<APIButtonComponentWithCustomId>[] = [];
  for (let i = 0; i < Math.min(made.length, max); i += DISCORD_LIMITS.buttonsPerRow) {
    rows.push({ type: ComponentType.ActionRow, components: made.slice(i, i + DISCORD_LIMITS.buttonsPerRow) });
  }
  return rows;
}

/** Discord shows attachments under their filename; keep it to safe characters so `attachment://` links work. */
function safeFilename(name: string, index: number): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return truncateText(cleaned || `file-${index + 1}`, 100);
}

function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.ceil(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MB`;
}

/** Attachments within Discord's count and size limits; the rest are reported in `notes`. */
export function attachmentsFor(
  items: { file: FileAttachment; description?: string }[],
  notes: string[],
  maxUploadBytes: number = DISCORD_LIMITS.uploadBytes,
): { attachments: DiscordMessageBody['attachments']; files: DiscordFile[] } {
  const attachments: DiscordMessageBody['attachments'] = [];
  const files: DiscordFile[] = [];
  const names = new Set<string>();
  for (const { file, description } of items) {
    if (file.data.length > maxUploadBytes) {
      notes.push(
        `${file.filename} left out: ${formatBytes(file.data.length)} is over the ${formatBytes(maxUploadBytes)} upload limit`,
      );
      continue;
    }
    if (files.length >= DISCORD_LIMITS.attachmentsPerMessage) {
      notes.push(
        `${file.filename} left out: Discord allows ${DISCORD_LIMITS.attachmentsPerMessage} files a message`,
      );
      continue;
    }
    let name = safeFilename(file.filename, files.length);
    if (names.has(name)) name = `${files.length + 1}-${name}`;
    names.add(name);
    attachments.push({
      id: String(files.length),
      filename: name,
      ...(description
        ? { description: truncateText(description, DISCORD_LIMITS.attachmentDescription) }
        : {}),
    });
    files.push({ name, data: file.data, contentType: file.mimeType });
  }
  return { attachments, files };
}

/** Maps a neutral Reply to one Discord message within every Discord limit. */
export function replyToDiscord(reply: Reply, options: ReplyToDiscordOptions = {}): DiscordMessageDraft {
  const width = options.codeBlockWidth ?? 72;
  const notes: string[] = [];
  const parts = reply.parts;
  const uploads: { file: FileAttachment; description?: string }[] = [];
  const buttons: Button[] = [];
  for (const part of parts) {
    if (part.type === 'image') uploads.push({ file: part.image, description: part.alt });
    else if (part.type === 'file')
      uploads.push({ file: part.file, ...(part.file.title ? { description: part.file.title } : {}) });
    else if (part.type === 'buttons') buttons.push(...part.buttons);
  }
  const components = buttonRows(buttons, notes);
  const { attachments, files } = attachmentsFor(uploads, notes, options.maxUploadBytes);

  let content: string;
  const embeds: APIEmbed[] = [];
  const contentNote = `… cut to fit Discord's ${DISCORD_LIMITS.messageContent.toLocaleString('en-US')}-character message limit`;
  if (isCard(parts)) {
    const described: TextBlock[] = [];
    const tables: TextBlock[] = [];
    const footer: string[] = [];
    for (const part of parts) {
      if (part.type === 'text') described.push(textBlock(toDiscordMarkdown(part.text)));
      else if (part.type === 'code') described.push(codeTextBlock(part.code, part.language ?? ''));
      else if (part.type === 'context') footer.push(withoutSlackEmphasis(part.text));
      else if (part.type === 'table') tables.push(tableBlock(part, width));
    }
    const description = fitBlocks(
      described,
      DISCORD_LIMITS.embedDescription,
      `… cut to fit Discord's ${DISCORD_LIMITS.embedDescription.toLocaleString('en-US')}-character embed limit`,
    );
    const footerText = [...footer, ...notes].join('\n');
    const footerRoom = Math.min(DISCORD_LIMITS.embedFooter, DISCORD_LIMITS.embedTotal - description.length);
    const embed: APIEmbed = {};
    if (description) embed.description = description;
    if (footerText && footerRoom > 1) embed.footer = { text: truncateText(footerText, footerRoom) };
    if (embed.description || embed.footer) embeds.push(embed);
    content = fitBlocks(tables, DISCORD_LIMITS.messageContent, contentNote);
  } else {
    const blocks = parts.map((p) => plainBlock(p, width)).filter((b): b is TextBlock => b !== undefined);
    if (notes.length) blocks.push(textBlock(subtext(notes.join('\n'))));
    content = fitBlocks(blocks, DISCORD_LIMITS.messageContent, contentNote);
  }
  // Mentions ping only from the message content (never from an embed), and only the ids named here.
  const users: string[] = [];
  const roles: string[] = [];
  for (const id of reply.mentions ?? []) (options.isRole?.(id) ? roles : users).push(id);
  if (users.length || roles.length) {
    const line = [...users.map((id) => `<@${id}>`), ...roles.map((id) => `<@&${id}>`)].join(' ');
    content = truncateText(content ? `${line}\n${content}` : line, DISCORD_LIMITS.messageContent);
  }
  if (!content && !embeds.length && !files.length && !components.length) {
    // Discord refuses an empty message; the fallback text is the reply's own plain summary.
    content = truncateText(reply.fallback || truncationNote('(empty reply)'), DISCORD_LIMITS.messageContent);
  }
  return {
    body: {
      content,
      embeds,
      components,
      attachments,
      allowed_mentions: {
        parse: [],
        ...(users.length ? { users } : {}),
        ...(roles.length ? { roles } : {}),
      },
    },
    files,
    notes,
  };
}

/** The same message as an ephemeral interaction reply (only the clicking user sees it). */
export function ephemeralBody(text: string): {
  content: string;
  flags: number;
  allowed_mentions: { parse: [] };
} {
  return {
    content: truncateText(toDiscordMarkdown(text), DISCORD_LIMITS.messageContent),
    flags: MessageFlags.Ephemeral,
    allowed_mentions: { parse: [] },
  };
}
