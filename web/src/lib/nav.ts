// Links inside the app. It routes by the URL fragment, so every link starts
// with "#/"; the namespace comes first: #/acme/webhooks/wh_123.
const enc = encodeURIComponent;

export const to = {
  overview: (ns: string) => `#/${enc(ns)}`,
  eventTypes: (ns: string) => `#/${enc(ns)}/event-types`,
  eventType: (ns: string, name: string) => `#/${enc(ns)}/event-types/${enc(name)}`,
  webhooks: (ns: string) => `#/${enc(ns)}/webhooks`,
  newWebhook: (ns: string) => `#/${enc(ns)}/webhooks/new`,
  webhook: (ns: string, id: string) => `#/${enc(ns)}/webhooks/${enc(id)}`,
  editWebhook: (ns: string, id: string) => `#/${enc(ns)}/webhooks/${enc(id)}/edit`,
  subscription: (ns: string, id: string) => `#/${enc(ns)}/subscriptions/${enc(id)}`,
  deliveries: (ns: string, query = '') => `#/${enc(ns)}/deliveries${query}`,
  delivery: (ns: string, id: string) => `#/${enc(ns)}/deliveries/${enc(id)}`,
  events: (ns: string, query = '') => `#/${enc(ns)}/events${query}`,
  newEvent: (ns: string, eventType = '') => `#/${enc(ns)}/events/new${eventType ? `?type=${enc(eventType)}` : ''}`,
  event: (ns: string, id: string) => `#/${enc(ns)}/events/${enc(id)}`,
};

/** hashQuery is the query of the route in the fragment: #/ns/deliveries?status=failed. */
export function hashQuery(url: URL): URLSearchParams {
  const i = url.hash.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : url.hash.slice(i + 1));
}

/** sameSection: the route path (#/ns/section/...) is in section, for the navigation's current marker. */
export function inSection(hash: string, ns: string, section: string): boolean {
  const path = hash.replace(/^#/, '').replace(/\?.*$/, '');
  const base = `/${enc(ns)}`;
  return section === '' ? path === base || path === `${base}/` : path === `${base}/${section}` || path.startsWith(`${base}/${section}/`);
}
