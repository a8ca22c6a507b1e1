import { describe, expect, it } from 'vitest';
import { errorPosition, offsetOf, pointAt, testRequest } from './filters';

describe('errorPosition', () => {
  const filter = 'payload.total > 100 &&\n  labels.regoin == "eu"';

  it("reads CEL's <input>:line:column", () => {
    const msg = "filter: ERROR: <input>:2:3: undeclared reference to 'labels.regoin'\n | labels.regoin\n | ..^";
    expect(errorPosition(filter, msg)).toEqual({ line: 2, column: 3, offset: 25 });
    expect(filter[25]).toBe('l');
  });
  it('reads "line L, column C" and a bare "L:C:"', () => {
    expect(errorPosition(filter, 'Filter: line 1, column 17: bad')).toMatchObject({ line: 1, column: 17, offset: 16 });
    expect(errorPosition(filter, 'Filter: 1:9: Syntax error')).toMatchObject({ offset: 8 });
  });
  it("reads the server's own \"filter: line:column: message; …\"", () => {
    const msg = "filter: 2:7: undeclared reference to 'regoin' (in container ''); 2:20: found no matching overload";
    expect(errorPosition(filter, msg)).toEqual({ line: 2, column: 7, offset: 29 });
  });
  it('gives nothing for a message without a place, or a place outside the filter', () => {
    expect(errorPosition(filter, 'Filter: the result must be a bool')).toBeUndefined();
    expect(errorPosition(filter, 'ERROR: <input>:3:1: x')).toBeUndefined();
    expect(errorPosition(filter, 'ERROR: <input>:1:40: x')).toBeUndefined();
  });
});

describe('offsetOf', () => {
  it('counts lines and columns from 1, allowing the end of a line', () => {
    expect(offsetOf('ab\ncd', 1, 1)).toBe(0);
    expect(offsetOf('ab\ncd', 2, 2)).toBe(4);
    expect(offsetOf('ab\ncd', 2, 3)).toBe(5);
    expect(offsetOf('ab\ncd', 2, 4)).toBeUndefined();
    expect(offsetOf('ab', 0, 1)).toBeUndefined();
    expect(offsetOf('ab', 1, 0)).toBeUndefined();
  });
});

describe('pointAt', () => {
  it('splits the line around the column', () => {
    expect(pointAt('a\nb == 1', { line: 2, column: 3, offset: 4 })).toEqual({ before: 'b ', at: '=', after: '= 1' });
    expect(pointAt('x >', { line: 1, column: 4, offset: 3 })).toEqual({ before: 'x >', at: '', after: '' });
  });
});

describe('testRequest', () => {
  it('sends the filter, the parsed sample and its labels', () => {
    const res = testRequest('payload.a == 1', '{"a": 1}', [
      { key: ' region ', value: 'eu' },
      { key: '', value: 'dropped' },
    ]);
    expect(res).toEqual({ ok: true, request: { filter: 'payload.a == 1', payload: { a: 1 }, labels: { region: 'eu' } } });
  });
  it('refuses a sample that is not a JSON object', () => {
    expect(testRequest('true', '[1]', [])).toEqual({ ok: false, error: expect.stringMatching(/^Sample payload: .*JSON object/) });
    expect(testRequest('true', '{', [])).toMatchObject({ ok: false, error: expect.stringMatching(/^Sample payload: Not valid JSON/) });
  });
});
