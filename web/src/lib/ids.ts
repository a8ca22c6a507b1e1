// Sparrow's identifiers ("evt_01jd3k…"): telling what one names, for the
// header's search box, and finding which namespace holds it.
import { to } from './nav';

export type IdKind = 'event' | 'delivery' | 'webhook' | 'subscription';

/** The prefixes the search box takes, and what each names. */
export const idPrefixes: Record<string, IdKind> = { evt: 'event', dlv: 'delivery', wh: 'webhook', sub: 'subscription' };

export const prefixList = Object.keys(idPrefixes)
  .map((p) => `${p}_`)
  .join(', ');

export type ParsedId = { ok: true; kind: IdKind; id: string } | { ok: false; message: string };

// A ULID in lowercase Crockford base32 (internal/ids).
const ulid = /^[0-9a-hjkmnp-tv-z]{26}$/;

/** looksLikeId: text that was meant as an id (a known prefix), good or not, rather than a namespace name. */
export function looksLikeId(text: string): boolean {
  return /^(evt|dlv|wh|sub)_/i.test(clean(text));
}

/**
 * parseId reads an id typed or pasted in: whitespace and quotes around it
 * are dropped (ids get copied out of JSON), and case doesn't matter.
 */
export function parseId(text: string): ParsedId {
  const s = clean(text);
  if (!s) return { ok: false, message: `Enter an id: ${prefixList}…` };
  const m = /^([a-z]+)_(.*)$/i.exec(s);
  const kind = m ? idPrefixes[m[1].toLowerCase()] : undefined;
  if (!m || !kind) return { ok: false, message: `“${short(s)}” is not an id this box finds: ids start with ${prefixList}.` };
  const prefix = m[1].toLowerCase();
  const rest = m[2].toLowerCase();
  if (!ulid.test(rest)) {
    return { ok: false, message: `“${short(s)}” is not a whole ${kind} id: ${prefix}_ and 26 letters and digits.` };
  }
  return { ok: true, kind, id: `${prefix}_${rest}` };
}

/** idLink is the page of the id's resource in namespace ns. */
export function idLink(ns: string, kind: IdKind, id: string): string {
  switch (kind) {
    case 'event':
      return to.event(ns, id);
    case 'delivery':
      return to.delivery(ns, id);
    case 'webhook':
      return to.webhook(ns, id);
    case 'subscription':
      return to.subscription(ns, id);
  }
}

/** The answer of one namespace to "do you hold this id?". */
export type Probe = 'found' | 'absent';

/**
 * findNamespace asks the current namespace first, then the others (a few at
 * a time, in the order given), and returns the first that holds the id, or
 * undefined. look answers 'absent' for not found (or not allowed); its other
 * errors end the search, so that a server that is down isn't reported as
 * "not found".
 */
export async function findNamespace(
  current: string,
  others: string[],
  look: (ns: string) => Promise<Probe>,
  batch = 6,
): Promise<string | undefined> {
  if ((await look(current)) === 'found') return current;
  const rest = [...new Set(others)].filter((ns) => ns !== current);
  for (let i = 0; i < rest.length; i += batch) {
    const group = rest.slice(i, i + batch);
    const answers = await Promise.all(group.map(look));
    const at = answers.indexOf('found');
    if (at >= 0) return group[at];
  }
  return undefined;
}

function clean(text: string): string {
  return text.trim().replace(/^["'`]+|["'`]+$/g, '').trim();
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** notFound says where an id was looked for in vain. */
export function notFound(kind: IdKind, id: string, current: string, others: number): string {
  const where = others > 0 ? `${current} or the ${others === 1 ? 'other namespace' : `${others} other namespaces`} you may see` : current;
  return `No ${kind} ${id} in ${where}.`;
}
