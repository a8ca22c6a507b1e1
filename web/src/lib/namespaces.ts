// Namespaces. The API has no call that lists them, so the dashboard
// remembers the ones used in this browser, and takes any other typed in.

export const defaultNamespace = 'default';
const pattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** validNamespace: a name the API accepts. */
export function validNamespace(ns: string): boolean {
  return pattern.test(ns);
}

/** remember puts ns first in the list of recent namespaces, keeping at most max. */
export function remember(list: string[], ns: string, max = 8): string[] {
  if (!validNamespace(ns)) return list;
  return [ns, ...list.filter((n) => n !== ns)].slice(0, max);
}

/** parseRecent reads a stored list, ignoring what isn't a list of valid names. */
export function parseRecent(stored: string | null): string[] {
  try {
    const v: unknown = JSON.parse(stored ?? '[]');
    return Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string' && validNamespace(n)) : [];
  } catch {
    return [];
  }
}
