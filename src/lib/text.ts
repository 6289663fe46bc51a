// Text helpers shared by every layer. A leaf module: it imports nothing of the project.

/** At most `limit` characters, the last one an ellipsis when cut. */
export function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** Whitespace runs folded to one space, then truncated: for one-line messages. */
export function oneLine(text: string, limit: number): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), limit);
}
