// The browser session: the API key (kept in sessionStorage, so for this tab
// and until it closes), whether the server wants one, and the namespaces
// used lately (localStorage).
import { parseRecent, remember } from './namespaces';

const keyItem = 'sparrow.apiKey';
const recentItem = 'sparrow.namespaces';

/** checking: not known yet; open: the server needs no key; signed-in: ours is accepted; needs-key: ask for one. */
export type AuthState = 'checking' | 'open' | 'signed-in' | 'needs-key';

export class Session {
  apiKey = $state('');
  auth = $state<AuthState>('checking');
  /** Why the key is asked for again, shown above the form. */
  notice = $state('');
  recent = $state<string[]>([]);

  constructor(
    private session: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>,
    private local: Pick<Storage, 'getItem' | 'setItem'>,
  ) {
    this.apiKey = session.getItem(keyItem) ?? '';
    this.recent = parseRecent(local.getItem(recentItem));
  }

  /** accepted records that the server answered: with key, or with no key needed. */
  accepted(key: string): void {
    this.apiKey = key;
    if (key) this.session.setItem(keyItem, key);
    else this.session.removeItem(keyItem);
    this.auth = key ? 'signed-in' : 'open';
    this.notice = '';
  }

  /** rejected records that the server refused the key (or its absence). */
  rejected(message: string): void {
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
    this.auth = 'needs-key';
    this.notice = 'Signed out.';
  }

  use(ns: string): void {
    const next = remember(this.recent, ns);
    if (next.join() === this.recent.join()) return;
    this.recent = next;
    this.local.setItem(recentItem, JSON.stringify(next));
  }
}
