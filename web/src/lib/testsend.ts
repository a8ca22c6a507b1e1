// A test send: an example event of one type to one webhook only, and the
// result of its delivery's attempt.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Delivery, DeliveryAttempt, EventType, SendTestEventRequestSchema } from '$gen/proto/webhook_pb';
import { isSystemType } from './event-types';
import { parseObject } from './json';

/**
 * testTypes are the types a test may send (active, not Sparrow's own),
 * the webhook's own first: those it subscribes to, then the others.
 */
export function testTypes(active: EventType[], subscribed: string[]): { subscribed: string[]; others: string[] } {
  const names = active.filter((t) => t.active && !isSystemType(t.name)).map((t) => t.name).sort();
  const mine = new Set(subscribed);
  return { subscribed: names.filter((n) => mine.has(n)), others: names.filter((n) => !mine.has(n)) };
}

export type TestSend =
  | { ok: true; request: MessageInitShape<typeof SendTestEventRequestSchema> }
  | { ok: false; error: string };

/** sendRequest is the SendTestEvent request; an empty payload lets the server make one from the type's schema. */
export function sendRequest(namespace: string, webhookId: string, eventName: string, payloadText: string): TestSend {
  if (!eventName) return { ok: false, error: 'Choose an event type.' };
  const base = { namespace, webhookId, eventName };
  if (!payloadText.trim()) return { ok: true, request: base };
  const parsed = parseObject(payloadText);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  return { ok: true, request: { ...base, payload: parsed.value } };
}

/** settled: the test delivery has an answer to show (it is no longer pending). */
export function settled(d: Pick<Delivery, 'status'> | undefined): boolean {
  return !!d && d.status !== 'pending';
}

/** lastAttempt is the delivery's latest attempt, if it made one. */
export function lastAttempt(d: Pick<Delivery, 'attempts'>): DeliveryAttempt | undefined {
  return d.attempts.reduce<DeliveryAttempt | undefined>((last, a) => (!last || a.number > last.number ? a : last), undefined);
}

/** attemptOk: the receiver answered 2xx. */
export function attemptOk(a: Pick<DeliveryAttempt, 'statusCode' | 'errorClass'>): boolean {
  return a.statusCode >= 200 && a.statusCode < 300 && !a.errorClass;
}
