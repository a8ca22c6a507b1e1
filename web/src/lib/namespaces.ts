// Namespaces: the ones the API lists (ListNamespaces, with what the caller
// may use), the ones used lately in this browser, and which to open.
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { plural, relativeTime, toDate } from './format';
import { looksLikeId } from './ids';

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

/** What ListNamespaces says the caller may use (CallerAccess). */
export interface NamespaceAccess {
  allNamespaces: boolean;
  namespaces: string[];
}

/** mayUse: the caller may use ns; without an answer about access, the server decides. */
export function mayUse(access: NamespaceAccess | undefined, ns: string): boolean {
  return !access || access.allNamespaces || access.namespaces.includes(ns);
}

/**
 * landing is the namespace the app opens on: the one used last that the
 * caller may use, else the first listed, else the first the caller may use
 * (a key for a namespace nothing is in yet), else the default one.
 */
export function landing(recent: string[], access: NamespaceAccess | undefined, listed: string[]): string {
  return (
    recent.find((ns) => mayUse(access, ns)) ??
    listed.find((ns) => mayUse(access, ns)) ??
    (access && !access.allNamespaces ? access.namespaces.find(validNamespace) : undefined) ??
    defaultNamespace
  );
}

/** What ListNamespaces says a namespace holds (NamespaceSummary). */
export interface NamespaceCounts {
  webhooks: number;
  pausedWebhooks: number;
  subscriptions: number;
  lastEventAt?: Timestamp;
}

/** contents sums up a namespace: "3 webhooks (1 paused) · 5 subscriptions · last event 5m ago". */
export function contents(n: NamespaceCounts, now: Date): string {
  const hooks = plural(n.webhooks, 'webhook') + (n.pausedWebhooks ? ` (${n.pausedWebhooks} paused)` : '');
  const last = n.lastEventAt ? `last event ${relativeTime(toDate(n.lastEventAt), now)}` : 'no events yet';
  return [hooks, plural(n.subscriptions, 'subscription'), last].join(' · ');
}

export type Typed =
  | { kind: 'empty' | 'listed' }
  | { kind: 'id' | 'new' | 'invalid' | 'forbidden'; message: string };

/**
 * typed says what the text in the namespace box would open: a namespace
 * listed, a new one (allowed, but it holds nothing yet), one the caller
 * may not use, a name the API refuses, or an id to look up instead.
 */
export function typed(text: string, listed: string[], access: NamespaceAccess | undefined): Typed {
  const ns = text.trim();
  if (!ns) return { kind: 'empty' };
  if (looksLikeId(ns)) return { kind: 'id', message: `An id: press Enter to find it.` };
  if (!validNamespace(ns)) {
    return { kind: 'invalid', message: 'Not a namespace name: 1 to 64 letters, digits, “_”, “.” or “-”, starting with a letter or digit.' };
  }
  if (!mayUse(access, ns)) return { kind: 'forbidden', message: `You may not use “${ns}”.` };
  if (listed.includes(ns)) return { kind: 'listed' };
  return { kind: 'new', message: `“${ns}” holds nothing yet: a new namespace. Press Enter to open it.` };
}
