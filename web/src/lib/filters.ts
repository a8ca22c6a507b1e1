// Payload filters: CEL expressions over an event's payload and labels that
// decide whether a subscription delivers it. The server evaluates them
// (TestFilter); this finds where in the expression an error points.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { TestFilterRequestSchema } from '$gen/proto/webhook_pb';
import { fromRows, type Row } from './headers';
import { parseObject } from './json';

/** A place in a filter: line and column from 1, and the offset from 0. */
export interface Position {
  line: number;
  column: number;
  offset: number;
}

// CEL writes "<input>:1:9: message"; others say "line 1, column 9".
const positionPatterns = [/<input>:(\d+):(\d+)/, /\bline (\d+),? col(?:umn)? (\d+)/i, /(?:^|[\s(])(\d+):(\d+):/];

/**
 * errorPosition is where in filter an error message points, or undefined
 * when it names no place inside it.
 */
export function errorPosition(filter: string, message: string): Position | undefined {
  for (const pattern of positionPatterns) {
    const m = pattern.exec(message);
    if (!m) continue;
    const line = Number(m[1]);
    const column = Number(m[2]);
    const offset = offsetOf(filter, line, column);
    return offset === undefined ? undefined : { line, column, offset };
  }
  return undefined;
}

/** offsetOf is the index in text of a line and column (from 1); undefined past its end. */
export function offsetOf(text: string, line: number, column: number): number | undefined {
  if (line < 1 || column < 1) return undefined;
  const lines = text.split('\n');
  if (line > lines.length) return undefined;
  // A column one past the line's end points at its end (CEL's "unexpected end").
  if (column > lines[line - 1].length + 1) return undefined;
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
  return offset + column - 1;
}

/** pointAt splits the line a position is on around the character it points at ('' at the line's end). */
export function pointAt(text: string, pos: Position): { before: string; at: string; after: string } {
  const line = text.split('\n')[pos.line - 1] ?? '';
  const i = pos.column - 1;
  return { before: line.slice(0, i), at: line.slice(i, i + 1), after: line.slice(i + 1) };
}

export type FilterTest =
  | { ok: true; request: MessageInitShape<typeof TestFilterRequestSchema> }
  | { ok: false; error: string };

/** testRequest is the TestFilter request for a filter over a sample, or what is wrong with the sample. */
export function testRequest(filter: string, payloadText: string, labelRows: Row[]): FilterTest {
  const parsed = parseObject(payloadText);
  if (!parsed.ok) return { ok: false, error: `Sample payload: ${parsed.error}` };
  return { ok: true, request: { filter, payload: parsed.value, labels: fromRows(labelRows) } };
}

/** An example to start from, in the placeholder. */
export const exampleFilter = 'payload.total > 100 && labels.region == "eu"';
