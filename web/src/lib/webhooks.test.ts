import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { WebhookSchema } from '$gen/proto/webhook_pb';
import { formField, graceText, graces, matchWebhooks, registerRequest, schemeOf, typedWebhookId, updateRequest, valuesOf } from './webhooks';

const before = create(WebhookSchema, {
  id: 'wh_1',
  url: 'https://a.example/hook',
  description: 'A',
  events: ['b.two', 'a.one'],
  headers: { Authorization: 'Bearer x' },
  timeoutSeconds: 30,
  maxAttempts: 8,
  active: true,
  state: 'active',
});

describe('updateRequest', () => {
  it('sends nothing but the webhook when nothing changed', () => {
    expect(updateRequest('ns', before, valuesOf(before))).toEqual({ namespace: 'ns', webhookId: 'wh_1' });
  });
  it('sends what changed', () => {
    const v = { ...valuesOf(before), url: ' https://b.example/hook ', maxAttempts: 3, events: ['a.one', 'c.three'] };
    expect(updateRequest('ns', before, v)).toEqual({
      namespace: 'ns',
      webhookId: 'wh_1',
      url: 'https://b.example/hook',
      maxAttempts: 3,
      events: ['a.one', 'c.three'],
    });
  });
  it('clears events and headers explicitly', () => {
    const v = { ...valuesOf(before), events: [], headers: {} };
    expect(updateRequest('ns', before, v)).toMatchObject({ clearEvents: true, clearHeaders: true });
    expect(updateRequest('ns', before, v)).not.toHaveProperty('events');
  });
  it('sends a new retry schedule with the attempt limit, and clears one explicitly', () => {
    const scheduled = create(WebhookSchema, { ...before, retrySchedule: ['5s', '5m0s', '2h0m0s'], maxAttempts: 4, rateLimitPerSecond: 10 });
    // The server writes 5m0s; the form 5m: the same schedule.
    expect(valuesOf(scheduled).retrySchedule).toEqual(['5s', '5m', '2h']);
    expect(updateRequest('ns', scheduled, valuesOf(scheduled))).toEqual({ namespace: 'ns', webhookId: 'wh_1' });
    expect(updateRequest('ns', scheduled, { ...valuesOf(scheduled), retrySchedule: ['1m', '1h'] })).toEqual({
      namespace: 'ns',
      webhookId: 'wh_1',
      retrySchedule: ['1m', '1h'],
      maxAttempts: 4,
    });
    expect(updateRequest('ns', scheduled, { ...valuesOf(scheduled), retrySchedule: [], maxAttempts: 8 })).toEqual({
      namespace: 'ns',
      webhookId: 'wh_1',
      clearRetrySchedule: true,
      maxAttempts: 8,
    });
  });
  it('sends a changed rate limit, 0 included', () => {
    const limited = create(WebhookSchema, { ...before, rateLimitPerSecond: 10 });
    expect(updateRequest('ns', limited, { ...valuesOf(limited), rateLimitPerSecond: 0 })).toEqual({ namespace: 'ns', webhookId: 'wh_1', rateLimitPerSecond: 0 });
    expect(updateRequest('ns', before, { ...valuesOf(before), rateLimitPerSecond: 25 })).toMatchObject({ rateLimitPerSecond: 25 });
  });
  it('ignores the order of events', () => {
    expect(updateRequest('ns', before, { ...valuesOf(before), events: ['b.two', 'a.one'] })).not.toHaveProperty('events');
  });
});

describe('registerRequest', () => {
  it('trims and passes the secret and state', () => {
    const req = registerRequest('ns', { ...valuesOf(before), url: ' https://x/ ', secret: ' s ', active: false });
    expect(req).toMatchObject({ namespace: 'ns', url: 'https://x/', webhookSecret: 's', active: false, maxAttempts: 8 });
  });
  it('passes the retry schedule and rate limit', () => {
    const req = registerRequest('ns', { ...valuesOf(before), retrySchedule: ['5s', '5m'], maxAttempts: 3, rateLimitPerSecond: 10 });
    expect(req).toMatchObject({ retrySchedule: ['5s', '5m'], maxAttempts: 3, rateLimitPerSecond: 10 });
  });
  it('passes the signature scheme, HMAC unless Ed25519 is chosen', () => {
    expect(registerRequest('ns', valuesOf(before))).toMatchObject({ signatureScheme: 'hmac-sha256' });
    expect(registerRequest('ns', { ...valuesOf(before), signatureScheme: 'ed25519' })).toMatchObject({ signatureScheme: 'ed25519' });
  });
});

describe('schemeOf', () => {
  it('reads the scheme, HMAC when the server names none', () => {
    expect(schemeOf(create(WebhookSchema, { signatureScheme: 'ed25519' }))).toBe('ed25519');
    expect(schemeOf(create(WebhookSchema, { signatureScheme: 'hmac-sha256' }))).toBe('hmac-sha256');
    expect(schemeOf(create(WebhookSchema, {}))).toBe('hmac-sha256');
  });
  it('is not sent on update: a webhook changes scheme by rotating its secret', () => {
    const v = { ...valuesOf(before), signatureScheme: 'ed25519' as const };
    expect(updateRequest('ns', before, v)).toEqual({ namespace: 'ns', webhookId: 'wh_1' });
  });
});

describe('formField', () => {
  it('maps request fields to form fields', () => {
    expect(formField('headers[X-Foo]')).toBe('headers');
    expect(formField('events[0]')).toBe('events');
    expect(formField('url')).toBe('url');
    expect(formField('retry_schedule[2]')).toBe('retry_schedule');
    expect(formField('rate_limit_per_second')).toBe('rate_limit_per_second');
    expect(formField(undefined)).toBe('');
  });
});

describe('grace periods of a rotation', () => {
  it('offer none to a week, a day by default, and name them', () => {
    expect(graces.map((g) => g.seconds)).toEqual([0, 3600, 86400, 604800]);
    expect(graceText(3600)).toBe('1 hour');
    expect(graceText(86400)).toBe('24 hours');
    expect(graceText(604800)).toBe('7 days');
    expect(graceText(1800)).toBe('30 minutes');
  });
});

describe('the webhook picker', () => {
  const hooks = [
    { id: 'wh_01jd3k0000000000000000000a', url: 'https://billing.example.com/hooks', description: 'Billing' },
    { id: 'wh_01jd3k0000000000000000000b', url: 'https://crm.example.com/in', description: 'CRM sync (EU)' },
  ];
  it('matches URLs, descriptions and ids, whatever the case', () => {
    expect(matchWebhooks(hooks, 'BILLING').map((w) => w.description)).toEqual(['Billing']);
    expect(matchWebhooks(hooks, 'eu)').map((w) => w.description)).toEqual(['CRM sync (EU)']);
    expect(matchWebhooks(hooks, '000b')).toHaveLength(1);
    expect(matchWebhooks(hooks, '  ')).toHaveLength(2);
    expect(matchWebhooks(hooks, 'nowhere')).toEqual([]);
    expect(matchWebhooks(hooks, '', 1)).toHaveLength(1);
  });
  it('takes a whole webhook id typed in, lower-cased', () => {
    expect(typedWebhookId(' WH_01JD3K0000000000000000000C ')).toBe('wh_01jd3k0000000000000000000c');
    expect(typedWebhookId('wh_123')).toBe('');
    expect(typedWebhookId('https://x')).toBe('');
  });
});
