import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { WebhookSchema } from '$gen/proto/webhook_pb';
import { formField, registerRequest, updateRequest, valuesOf } from './webhooks';

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
  it('ignores the order of events', () => {
    expect(updateRequest('ns', before, { ...valuesOf(before), events: ['b.two', 'a.one'] })).not.toHaveProperty('events');
  });
});

describe('registerRequest', () => {
  it('trims and passes the secret and state', () => {
    const req = registerRequest('ns', { ...valuesOf(before), url: ' https://x/ ', secret: ' s ', active: false });
    expect(req).toMatchObject({ namespace: 'ns', url: 'https://x/', webhookSecret: 's', active: false, maxAttempts: 8 });
  });
});

describe('formField', () => {
  it('maps request fields to form fields', () => {
    expect(formField('headers[X-Foo]')).toBe('headers');
    expect(formField('events[0]')).toBe('events');
    expect(formField('url')).toBe('url');
    expect(formField(undefined)).toBe('');
  });
});
