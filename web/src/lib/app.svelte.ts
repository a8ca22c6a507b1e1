// The app's singletons: its configuration, session and API client.
import { createApi } from './api/client';
import { readConfig } from './config';
import { Session } from './session.svelte';
import { WebhookNames } from './webhook-names.svelte';

export const config = readConfig(document);
export const session = new Session(sessionStorage, localStorage);
export const api = createApi(config.apiBase, {
  key: () => session.apiKey,
  rejected: (message) => session.rejected(message),
});
export const webhookNames = new WebhookNames(api);
