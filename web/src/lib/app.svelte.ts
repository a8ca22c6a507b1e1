// The app's singletons: its configuration, session and API client.
import { createApi } from './api/client';
import { readConfig } from './config';
import type { Capability } from './portal';
import { Session } from './session.svelte';
import { WebhookNames } from './webhook-names.svelte';

export const config = readConfig(document);
export const session = new Session(sessionStorage, localStorage);
export const api = createApi(config.apiBase, {
  key: () => session.apiKey,
  token: () => session.portalToken,
  rejected: (message) => session.rejected(message),
});
export const webhookNames = new WebhookNames(api);

/** can: the signed-in credential may do this (pages hide the actions it may not). */
export function can(capability: Capability): boolean {
  return session.can(capability);
}
