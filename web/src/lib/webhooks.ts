// The webhook form's values, and the requests they make.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { RegisterWebhookRequestSchema, UpdateWebhookRequestSchema, Webhook } from '$gen/proto/webhook_pb';
import { sameMap } from './headers';
import { normalSchedule } from './policies';

export interface WebhookValues {
  url: string;
  description: string;
  events: string[];
  headers: Record<string, string>;
  timeoutSeconds: number;
  maxAttempts: number;
  /** The waits before each retry, written briefly ("5m"); empty: the default backoff. */
  retrySchedule: string[];
  /** Requests a second at most; 0: no limit. */
  rateLimitPerSecond: number;
  /** Create only: the signing secret, '' to have one generated. */
  secret: string;
  /** Create only: false registers the webhook paused. */
  active: boolean;
  /** Create only: how deliveries are signed. */
  signatureScheme: SignatureScheme;
}

/** The ways Sparrow signs deliveries (Standard Webhooks' v1 and v1a). */
export const schemes = ['hmac-sha256', 'ed25519'] as const;
export type SignatureScheme = (typeof schemes)[number];

/** schemeOf is a webhook's scheme; servers from before Ed25519 send none: HMAC. */
export function schemeOf(w: Pick<Webhook, 'signatureScheme'>): SignatureScheme {
  return w.signatureScheme === 'ed25519' ? 'ed25519' : 'hmac-sha256';
}

/** schemeText names a scheme for people. */
export function schemeText(s: SignatureScheme): string {
  return s === 'ed25519' ? 'Ed25519 (v1a signatures, verified with a public key)' : 'HMAC-SHA256 (v1 signatures, verified with the shared secret)';
}

export const defaults: WebhookValues = {
  url: '',
  description: '',
  events: [],
  headers: {},
  timeoutSeconds: 30,
  maxAttempts: 8,
  retrySchedule: [],
  rateLimitPerSecond: 0,
  secret: '',
  active: true,
  signatureScheme: 'hmac-sha256',
};

/** valuesOf is a webhook's form values. */
export function valuesOf(w: Webhook): WebhookValues {
  return {
    url: w.url,
    description: w.description,
    events: [...w.events].sort(),
    headers: { ...w.headers },
    timeoutSeconds: w.timeoutSeconds,
    maxAttempts: w.maxAttempts,
    retrySchedule: normalSchedule(w.retrySchedule),
    rateLimitPerSecond: w.rateLimitPerSecond,
    secret: '',
    active: w.active,
    signatureScheme: schemeOf(w),
  };
}

export function registerRequest(namespace: string, v: WebhookValues): MessageInitShape<typeof RegisterWebhookRequestSchema> {
  return {
    namespace,
    url: v.url.trim(),
    description: v.description.trim(),
    events: v.events,
    headers: v.headers,
    timeoutSeconds: v.timeoutSeconds,
    maxAttempts: v.maxAttempts,
    retrySchedule: v.retrySchedule,
    rateLimitPerSecond: v.rateLimitPerSecond,
    webhookSecret: v.secret.trim(),
    active: v.active,
    signatureScheme: v.signatureScheme,
  };
}

/**
 * updateRequest changes what differs between before and v, and nothing
 * else: unset fields keep their value on the server.
 */
export function updateRequest(
  namespace: string,
  before: Webhook,
  v: WebhookValues,
): MessageInitShape<typeof UpdateWebhookRequestSchema> {
  const req: MessageInitShape<typeof UpdateWebhookRequestSchema> = { namespace, webhookId: before.id };
  const url = v.url.trim();
  const description = v.description.trim();
  if (url !== before.url) req.url = url;
  if (description !== before.description) req.description = description;
  if (v.timeoutSeconds !== before.timeoutSeconds) req.timeoutSeconds = v.timeoutSeconds;
  // A new schedule without an attempt limit would set the limit to one
  // more than its waits: the form's limit goes with it, so it holds.
  const scheduleChanged = v.retrySchedule.join(',') !== normalSchedule(before.retrySchedule).join(',');
  if (v.maxAttempts !== before.maxAttempts || scheduleChanged) req.maxAttempts = v.maxAttempts;
  if (scheduleChanged) {
    if (v.retrySchedule.length) req.retrySchedule = v.retrySchedule;
    else req.clearRetrySchedule = true;
  }
  if (v.rateLimitPerSecond !== before.rateLimitPerSecond) req.rateLimitPerSecond = v.rateLimitPerSecond;
  const events = [...v.events].sort();
  if (events.join('\n') !== [...before.events].sort().join('\n')) {
    if (events.length) req.events = events;
    else req.clearEvents = true;
  }
  if (!sameMap(v.headers, before.headers)) {
    if (Object.keys(v.headers).length) req.headers = v.headers;
    else req.clearHeaders = true;
  }
  return req;
}

/** formField is the form field a server-named request field belongs to. */
export function formField(field: string | undefined): string {
  if (!field) return '';
  if (field.startsWith('headers')) return 'headers';
  if (field.startsWith('events')) return 'events';
  if (field.startsWith('retry_schedule')) return 'retry_schedule';
  return field;
}

/** How long a rotated secret keeps signing beside the new one: what the rotation offers, 24 hours (the server's default) first chosen. */
export const graces = [
  { seconds: 0, label: 'None: only the new one signs, at once' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86400, label: '24 hours (default)' },
  { seconds: 604800, label: '7 days' },
] as const;

/** graceText names a grace period in a sentence: "1 hour", "24 hours", "7 days". */
export function graceText(seconds: number): string {
  if (seconds % 86400 === 0 && seconds >= 2 * 86400) return `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

/**
 * matchWebhooks is what a webhook picker lists for what was typed: the
 * webhooks whose URL, description or id hold it, whatever the case, in
 * their order; all of them for nothing typed.
 */
export function matchWebhooks<T extends { id: string; url: string; description: string }>(webhooks: T[], typed: string, max = 50): T[] {
  const q = typed.trim().toLowerCase();
  const found = q ? webhooks.filter((w) => [w.url, w.description, w.id].some((s) => s.toLowerCase().includes(q))) : webhooks;
  return found.slice(0, max);
}

/** typedWebhookId is a webhook id typed or pasted into a picker, or '' when the text is not one. */
export function typedWebhookId(typed: string): string {
  const s = typed.trim();
  return /^wh_[0-9a-z]{26}$/i.test(s) ? s.toLowerCase() : '';
}
