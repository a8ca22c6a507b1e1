import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { DeliveryAttemptSchema, EventTypeSchema } from '$gen/proto/webhook_pb';
import { attemptOk, lastAttempt, sendRequest, settled, testTypes } from './testsend';

describe('testTypes', () => {
  it("offers active types that aren't Sparrow's own, the webhook's first", () => {
    const types = ['order.paid', 'sparrow.webhook.disabled', 'order.created', 'invoice.sent', 'old.one'].map((name) =>
      create(EventTypeSchema, { name, active: name !== 'old.one' }),
    );
    expect(testTypes(types, ['order.paid', 'invoice.sent'])).toEqual({
      subscribed: ['invoice.sent', 'order.paid'],
      others: ['order.created'],
    });
  });
});

describe('sendRequest', () => {
  it('leaves the payload out when it is empty: the server makes one', () => {
    expect(sendRequest('ns', 'wh_1', 'order.paid', '  \n')).toEqual({
      ok: true,
      request: { namespace: 'ns', webhookId: 'wh_1', eventName: 'order.paid' },
    });
  });
  it('sends the payload given', () => {
    expect(sendRequest('ns', 'wh_1', 'order.paid', '{"id": 7}')).toEqual({
      ok: true,
      request: { namespace: 'ns', webhookId: 'wh_1', eventName: 'order.paid', payload: { id: 7 } },
    });
  });
  it('refuses a payload that is not a JSON object, or no type', () => {
    expect(sendRequest('ns', 'wh_1', 'order.paid', '"x"')).toMatchObject({ ok: false, error: expect.stringMatching(/JSON object/) });
    expect(sendRequest('ns', 'wh_1', '', '')).toEqual({ ok: false, error: 'Choose an event type.' });
  });
});

describe('the result', () => {
  it('is settled once no longer pending', () => {
    expect(settled(undefined)).toBe(false);
    expect(settled({ status: 'pending' })).toBe(false);
    expect(['retrying', 'succeeded', 'failed', 'cancelled'].every((status) => settled({ status }))).toBe(true);
  });
  it('shows the latest attempt', () => {
    const attempts = [2, 3, 1].map((number) => create(DeliveryAttemptSchema, { number }));
    expect(lastAttempt({ attempts })?.number).toBe(3);
    expect(lastAttempt({ attempts: [] })).toBeUndefined();
  });
  it('is a success on a 2xx answer without error', () => {
    expect(attemptOk({ statusCode: 204, errorClass: '' })).toBe(true);
    expect(attemptOk({ statusCode: 500, errorClass: 'http_5xx' })).toBe(false);
    expect(attemptOk({ statusCode: 0, errorClass: 'timeout' })).toBe(false);
    expect(attemptOk({ statusCode: 200, errorClass: 'invalid_response' })).toBe(false);
  });
});
