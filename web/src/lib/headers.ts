// Headers, for display.

/** sortedEntries lists a header map by name, case-insensitively. */
export function sortedEntries(headers: Record<string, string> | undefined): [string, string][] {
  return Object.entries(headers ?? {}).sort(([a], [b]) => a.toLowerCase().localeCompare(b.toLowerCase()));
}

const sensitive = /^(authorization|proxy-authorization|cookie|x-api-key)$|token|secret|password|passwd|api[-_]?key|credential/i;

/** isSensitive: a header whose value may be a credential. */
export function isSensitive(name: string): boolean {
  return sensitive.test(name);
}

/** masked is the display value of a request header: credentials hidden (the server already masks custom headers). */
export function masked(name: string, value: string): string {
  if (!isSensitive(name) || /^\*+$/.test(value)) return value;
  return '********';
}

export interface Row {
  key: string;
  value: string;
}

/** toRows turns a map into editable rows, with one empty row to type into when there are none. */
export function toRows(map: Record<string, string> | undefined): Row[] {
  const rows = sortedEntries(map).map(([key, value]) => ({ key, value }));
  return rows.length ? rows : [{ key: '', value: '' }];
}

/** fromRows turns edited rows back into a map: blank rows dropped, names trimmed; a later duplicate wins. */
export function fromRows(rows: Row[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, value } of rows) {
    const k = key.trim();
    if (k) out[k] = value;
  }
  return out;
}

/** sameMap: the two maps hold the same entries. */
export function sameMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}
