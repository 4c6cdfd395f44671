/** Discord's message limits as the fake enforces them: an over-limit request fails whole, with error 50035. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonRecord = Record<string, any>;

function formError(field: string, problem: string): [number, unknown] {
  return [
    400,
    { message: 'Invalid Form Body', code: 50035, errors: { [field]: { _errors: [{ code: problem }] } } },
  ];
}

/** Discord's message limits, enforced as Discord does: the whole request fails with 50035. */
export function invalidMessageBody(body: JsonRecord, attachmentCount: number): [number, unknown] | undefined {
  if (typeof body.content === 'string' && body.content.length > 2000)
    return formError('content', 'BASE_TYPE_MAX_LENGTH');
  const embeds = (body.embeds ?? []) as JsonRecord[];
  if (embeds.length > 10) return formError('embeds', 'BASE_TYPE_MAX_LENGTH');
  let total = 0;
  for (const embed of embeds) {
    const description = String(embed.description ?? '');
    const footer = String(embed.footer?.text ?? '');
    const title = String(embed.title ?? '');
    if (description.length > 4096) return formError('embeds.description', 'BASE_TYPE_MAX_LENGTH');
    if (footer.length > 2048) return formError('embeds.footer.text', 'BASE_TYPE_MAX_LENGTH');
    if (title.length > 256) return formError('embeds.title', 'BASE_TYPE_MAX_LENGTH');
    if ((embed.fields ?? []).length > 25) return formError('embeds.fields', 'BASE_TYPE_MAX_LENGTH');
    total += description.length + footer.length + title.length;
  }
  if (total > 6000) return formError('embeds', 'MAX_EMBED_SIZE_EXCEEDED');
  const rows = (body.components ?? []) as JsonRecord[];
  if (rows.length > 5) return formError('components', 'BASE_TYPE_MAX_LENGTH');
  const ids = new Set<string>();
  for (const row of rows) {
    if ((row.components ?? []).length > 5) return formError('components.components', 'BASE_TYPE_MAX_LENGTH');
    for (const component of row.components ?? []) {
      const id = String(component.custom_id ?? '');
      if (id.length > 100) return formError('components.custom_id', 'BASE_TYPE_MAX_LENGTH');
      if (String(component.label ?? '').length > 80)
        return formError('components.label', 'BASE_TYPE_MAX_LENGTH');
      if (ids.has(id)) return formError('components.custom_id', 'COMPONENT_CUSTOM_ID_DUPLICATED');
      ids.add(id);
    }
  }
  if (attachmentCount > 10) return formError('attachments', 'BASE_TYPE_MAX_LENGTH');
  return undefined;
}
