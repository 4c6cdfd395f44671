/**
 * Discord's documented size limits, in one place so the reply mapper, the modal builder and the tests agree.
 * Exceeding any of these makes Discord reject the whole request (error 50035), so every mapper truncates
 * to them with a visible note instead.
 */
export const DISCORD_LIMITS = {
  messageContent: 2000,
  embedsPerMessage: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFooter: 2048,
  /** Sum of all title, description, field and footer text across a message's embeds. */
  embedTotal: 6000,
  fieldsPerEmbed: 25,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  attachmentsPerMessage: 10,
  attachmentDescription: 1024,
  /** Per-file upload limit for bots in servers without boosts. */
  uploadBytes: 10 * 1024 * 1024,
  threadName: 100,
  modalTitle: 45,
  modalComponents: 5,
  textInputLabel: 45,
  textInputValue: 4000,
} as const;
