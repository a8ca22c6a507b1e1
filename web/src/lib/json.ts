// JSON as people type and read it.
import type { JsonObject } from '@bufbuild/protobuf';

/** pretty re-indents JSON text; text that isn't JSON comes back as it is. */
export function pretty(text: string): string {
  if (!text) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** prettyValue indents a value already parsed. */
export function prettyValue(v: unknown): string {
  return JSON.stringify(v ?? {}, null, 2);
}

export type Parsed = { ok: true; value: JsonObject } | { ok: false; error: string };

/** parseObject parses a payload: it must be a JSON object. */
export function parseObject(text: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, error: 'The payload must be a JSON object, like {"order_id": "ord_123"}.' };
  }
  return { ok: true, value: value as JsonObject };
}

/** A payload to start from when there is no real one. */
export const samplePayload: JsonObject = {
  id: 'ord_123',
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  total: 49.99,
  items: [{ sku: 'SKU-1', quantity: 2 }],
};
