// Long text, shortened for display.

/**
 * collapse returns the start of s to show folded: at most maxChars
 * characters and maxLines lines; null when s fits whole.
 */
export function collapse(s: string, maxChars: number, maxLines: number): string | null {
  let end = Math.min(s.length, maxChars);
  let at = -1;
  for (let i = 0; i < maxLines; i++) {
    at = s.indexOf('\n', at + 1);
    if (at < 0) break;
  }
  if (at >= 0) end = Math.min(end, at);
  return end < s.length ? s.slice(0, end) : null;
}

/**
 * breakParts splits an identifier after each ".", "_", "-" or "/": the
 * places it may wrap ("sparrow.webhook.state_changed" → "sparrow.",
 * "webhook.", "state_", "changed").
 */
export function breakParts(s: string): string[] {
  return s.split(/(?<=[._\-/])/).filter((p) => p !== '');
}
