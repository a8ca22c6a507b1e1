// The typed API: clients generated from proto/webhook.proto (make generate)
// over one Connect transport that adds the credential (an API key, or a
// portal token) and notices when the server refuses it.
import { Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import {
  DeliveryService,
  EventService,
  HealthService,
  NamespaceService,
  SubscriptionService,
  WebhookService,
} from '$gen/proto/webhook_pb';

export interface Credentials {
  /** The API key to send, or '' for none. */
  key(): string;
  /** A portal token to send instead, as Authorization: Bearer; '' or absent for none. */
  token?(): string;
  /** Called when the server answers Unauthenticated. */
  rejected(message: string): void;
}

/** The header Sparrow reads the API key from. */
export const apiKeyHeader = 'x-api-key';

export function createApi(baseUrl: string, credentials: Credentials, fetchImpl?: typeof fetch) {
  const auth: Interceptor = (next) => async (req) => {
    const token = credentials.token?.() ?? '';
    const key = token ? '' : credentials.key();
    if (token) req.header.set('Authorization', `Bearer ${token}`);
    if (key) req.header.set(apiKeyHeader, key);
    try {
      return await next(req);
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) credentials.rejected(err.rawMessage);
      throw err;
    }
  };
  const transport = createConnectTransport({
    baseUrl,
    interceptors: [auth],
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  return {
    webhooks: createClient(WebhookService, transport),
    events: createClient(EventService, transport),
    subscriptions: createClient(SubscriptionService, transport),
    deliveries: createClient(DeliveryService, transport),
    health: createClient(HealthService, transport),
    namespaces: createClient(NamespaceService, transport),
  };
}

export type Api = ReturnType<typeof createApi>;
