// The browser session: the credential (an API key, or a portal link's
// token; both kept in sessionStorage, so for this tab and until it closes),
// whether the server wants one, what the credential may use and do
// (ListNamespaces), and the namespaces used lately (localStorage).
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { landing, mayUse, parseRecent, remember, type NamespaceAccess } from './namespaces';
import type { Capability } from './portal';

const keyItem = 'sparrow.apiKey';
const tokenItem = 'sparrow.portalToken';
const recentItem = 'sparrow.namespaces';

/**
 * checking: not known yet; open: the server needs no key; signed-in: ours
 * is accepted; portal: a portal link's token is; needs-key: ask for one;
 * link-expired: the portal link's token is refused (a new link is needed,
 * not a key).
 */
export type AuthState = 'checking' | 'open' | 'signed-in' | 'portal' | 'needs-key' | 'link-expired';

/** What ListNamespaces answers: the namespaces in use, and the caller's access. */
export interface Listing {
  namespaces: NamespaceInfo[];
  access?: Access;
}

export interface NamespaceInfo {
  namespace: string;
  webhooks: number;
  pausedWebhooks: number;
  subscriptions: number;
  lastEventAt?: Timestamp;
}

export interface Access extends NamespaceAccess {
  capabilities: string[];
  expiresAt?: Timestamp;
  portal: boolean;
}

export class Session {
  apiKey = $state('');
  /** A portal link's token; when set, it is sent instead of the key. */
  portalToken = $state('');
  auth = $state<AuthState>('checking');
  /** Why the key is asked for again, shown above the form; for a portal, the server's refusal. */
  notice = $state('');
  recent = $state<string[]>([]);
  /** The namespaces the caller may use that hold something, by name. */
  namespaces = $state.raw<NamespaceInfo[]>([]);
  /** What the credential may use and do; undefined when the server doesn't say (then it decides, call by call). */
  access = $state.raw<Access | undefined>(undefined);

  constructor(
    private session: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
    private local: Pick<Storage, 'getItem' | 'setItem'>,
  ) {
    this.apiKey = session.getItem(keyItem) ?? '';
    this.portalToken = session.getItem(tokenItem) ?? '';
    this.recent = parseRecent(local.getItem(recentItem));
  }

  /** portal: the credential is a portal link's token, which locks the app to its namespace. */
  get portal(): boolean {
    return this.portalToken !== '';
  }

  /** usePortal takes a portal link's token, instead of any key. */
  usePortal(token: string): void {
    this.portalToken = token;
    this.session.setItem(tokenItem, token);
    this.apiKey = '';
    this.session.removeItem(keyItem);
    this.auth = 'checking';
  }

  /** listed records what ListNamespaces answered (undefined: a server without it). */
  listed(res: Listing | undefined): void {
    this.namespaces = res?.namespaces ?? [];
    this.access = res?.access;
  }

  /** accepted records that the server answered: with key (or portal token), or with no key needed. */
  accepted(key: string): void {
    this.notice = '';
    if (this.portal) {
      this.auth = 'portal';
      return;
    }
    this.apiKey = key;
    if (key) this.session.setItem(keyItem, key);
    else this.session.removeItem(keyItem);
    this.auth = key ? 'signed-in' : 'open';
  }

  /** rejected records that the server refused the key (or its absence, or the portal token). */
  rejected(message: string): void {
    if (this.portal) {
      // The token stays: reloading the tab explains again, rather than
      // asking for a key its bearer doesn't have.
      this.auth = 'link-expired';
      this.notice = message;
      return;
    }
    const hadKey = this.apiKey !== '';
    this.apiKey = '';
    this.session.removeItem(keyItem);
    if (this.auth === 'needs-key') return;
    this.auth = 'needs-key';
    this.notice = hadKey ? `Your API key is no longer accepted (${message}). Enter one again.` : '';
  }

  signOut(): void {
    this.apiKey = '';
    this.session.removeItem(keyItem);
    this.listed(undefined);
    this.auth = 'needs-key';
    this.notice = 'Signed out.';
  }

  /** can: the credential may do this; without an answer about access, the server decides. */
  can(capability: Capability): boolean {
    return !this.access || this.access.capabilities.includes(capability);
  }

  /** mayUse: the credential may use namespace ns. */
  mayUse(ns: string): boolean {
    return mayUse(this.access, ns);
  }

  /** landing is the namespace to open when the link names none. */
  get landing(): string {
    return landing(
      this.recent,
      this.access,
      this.namespaces.map((n) => n.namespace),
    );
  }

  use(ns: string): void {
    // A portal's bearer is a guest in this browser: nothing to remember.
    if (this.portal) return;
    const next = remember(this.recent, ns);
    if (next.join() === this.recent.join()) return;
    this.recent = next;
    this.local.setItem(recentItem, JSON.stringify(next));
  }
}
