import { describe, expect, it } from 'vitest';
import { collapse } from './text';

describe('collapse', () => {
  it('leaves short text whole', () => {
    expect(collapse('a\nb\nc', 100, 3)).toBeNull();
    expect(collapse('', 100, 3)).toBeNull();
  });
  it('cuts after maxLines lines', () => {
    expect(collapse('a\nb\nc\nd', 100, 2)).toBe('a\nb');
  });
  it('cuts at maxChars', () => {
    expect(collapse('x'.repeat(50), 10, 5)).toBe('x'.repeat(10));
  });
  it('cuts at whichever comes first', () => {
    expect(collapse('aaaa\nbbbb\ncccc', 7, 2)).toBe('aaaa\nbb');
    expect(collapse('a\nb\nccccccccc', 100, 2)).toBe('a\nb');
  });
});
