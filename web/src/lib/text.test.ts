import { describe, expect, it } from 'vitest';
import { breakParts, collapse } from './text';

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

describe('breakParts', () => {
  it('splits after dots, underscores, hyphens and slashes', () => {
    expect(breakParts('sparrow.webhook.state_changed')).toEqual(['sparrow.', 'webhook.', 'state_', 'changed']);
    expect(breakParts('order.created-mx5')).toEqual(['order.', 'created-', 'mx5']);
    expect(breakParts('a/b')).toEqual(['a/', 'b']);
  });
  it('keeps a name without them whole, and the parts add up to it', () => {
    expect(breakParts('orders')).toEqual(['orders']);
    expect(breakParts('')).toEqual([]);
    expect(breakParts('..x__').join('')).toBe('..x__');
  });
});
