// Finding an id (evt_, dlv_, wh_, sub_) from the header: in the namespace on
// screen first, then in the others the caller may see.
import { describe } from './api/errors';
import { idProbe, whoAmI } from './api/queries';
import { api, session } from './app.svelte';
import { findNamespace, idLink, notFound, parseId } from './ids';

export type Found = { ok: true; href: string } | { ok: false; message: string };

export async function findId(text: string, current: string): Promise<Found> {
  const parsed = parseId(text);
  if (!parsed.ok) return parsed;
  try {
    // Listed afresh: a namespace may have been used since sign-in.
    session.listed(await whoAmI(api));
  } catch {
    // The list held since sign-in will do.
  }
  const others = session.namespaces.map((n) => n.namespace).filter((ns) => ns !== current);
  try {
    const ns = await findNamespace(current, others, idProbe(api, parsed.kind, parsed.id));
    if (!ns) return { ok: false, message: notFound(parsed.kind, parsed.id, current, others.length) };
    return { ok: true, href: idLink(ns, parsed.kind, parsed.id) };
  } catch (err) {
    return { ok: false, message: `Could not look it up: ${describe(err).message}` };
  }
}
