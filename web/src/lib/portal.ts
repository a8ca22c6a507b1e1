// Tenant portals: a host gives its customer a link to the dashboard that
// carries a portal token ("<dashboard>/#token=spt_…"), which lets its
// bearer see one namespace, for a while, doing what the token allows.
import { absoluteTime } from './format';

/** What a credential may do (CallerAccess.capabilities). */
export type Capability = 'read' | 'manage_webhooks' | 'push_events' | 'manage_event_types';

/**
 * tokenFromHash is the token of a portal link's fragment, "#token=<token>",
 * or '' when the fragment is anything else (a route such as "#/acme").
 */
export function tokenFromHash(hash: string): string {
  const h = hash.replace(/^#/, '');
  if (!h.startsWith('token=')) return '';
  try {
    return new URLSearchParams(h).get('token')?.trim() ?? '';
  } catch {
    return '';
  }
}

/** portalMode says what a portal's bearer may do, in words. */
export function portalMode(capabilities: readonly string[]): string {
  return capabilities.includes('manage_webhooks') ? 'manage webhooks' : 'read only';
}

/** portalBanner is the line that says whose portal this is: "Portal for acme · read only · expires 2026-12-07 16:14:31". */
export function portalBanner(namespace: string, capabilities: readonly string[], expires: Date | undefined): string {
  const parts = [`Portal for ${namespace}`, portalMode(capabilities)];
  if (expires) parts.push(`expires ${absoluteTime(expires)}`);
  return parts.join(' · ');
}

/** expiredLink explains why a portal link stopped working, from the server's refusal. */
export function expiredLink(message: string): { title: string; detail: string } {
  const ask = 'Ask whoever gave you the link for a new one.';
  if (/expired/i.test(message)) return { title: 'This link has expired', detail: ask };
  return { title: 'This link does not work', detail: `The server refused it${message ? ` (${message})` : ''}. ${ask}` };
}
