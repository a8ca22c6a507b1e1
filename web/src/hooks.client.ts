// A portal link (<dashboard>/#token=spt_…) hands the app a token: it is
// taken before the router reads the fragment as a route, kept in this tab's
// sessionStorage, and removed from the address bar (and so from history,
// bookmarks and screenshots).
import type { ClientInit } from '@sveltejs/kit';
import { session } from '$lib/app.svelte';
import { tokenFromHash } from '$lib/portal';

export const init: ClientInit = () => {
  const token = tokenFromHash(location.hash);
  if (!token) return;
  session.usePortal(token);
  history.replaceState(history.state, '', `${location.pathname}${location.search}#/`);
};
