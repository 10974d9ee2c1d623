/** Bounded JSON parsing for payload views: never throws, refuses inputs over `MAX_JSON_CHARS`. */
export const MAX_JSON_CHARS = 4 * 1024 * 1024;

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

export function looksLikeJson(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('{') || t.startsWith('[');
}

export function parseJsonPayload(text: string): JsonParse {
  if (text.length > MAX_JSON_CHARS) return { ok: false, error: `Too large for the JSON view (${text.length} characters).` };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    // RangeError on absurd nesting lands here too
    return { ok: false, error: `Not JSON: ${(e as Error).message}` };
  }
}
