import { describe, expect, it } from 'vitest';
import { expiredLink, portalBanner, portalMode, tokenFromHash } from './portal';

describe('tokenFromHash', () => {
  it('takes the token of a portal link', () => {
    expect(tokenFromHash('#token=spt_abc.def')).toBe('spt_abc.def');
    expect(tokenFromHash('token=spt_abc')).toBe('spt_abc');
    expect(tokenFromHash('#token=spt_a%2Bb')).toBe('spt_a+b');
    expect(tokenFromHash('#token=spt_x&ns=acme')).toBe('spt_x');
  });
  it('leaves routes and everything else alone', () => {
    expect(tokenFromHash('')).toBe('');
    expect(tokenFromHash('#/acme/webhooks')).toBe('');
    expect(tokenFromHash('#/acme?token=spt_x')).toBe('');
    expect(tokenFromHash('#token=')).toBe('');
    expect(tokenFromHash('#tokens=spt_x')).toBe('');
  });
});

describe('portal words', () => {
  it('names what the bearer may do', () => {
    expect(portalMode(['read'])).toBe('read only');
    expect(portalMode(['read', 'manage_webhooks'])).toBe('manage webhooks');
  });
  it('says whose portal, what and until when', () => {
    const d = new Date(2026, 11, 7, 16, 14, 31);
    expect(portalBanner('acme', ['read'], d)).toBe('Portal for acme · read only · expires 2026-12-07 16:14:31');
    expect(portalBanner('acme', ['read', 'manage_webhooks'], undefined)).toBe('Portal for acme · manage webhooks');
  });
  it('tells an expired link from a broken one', () => {
    expect(expiredLink('portal token expired')).toEqual({ title: 'This link has expired', detail: 'Ask whoever gave you the link for a new one.' });
    expect(expiredLink('invalid portal token').title).toBe('This link does not work');
    expect(expiredLink('invalid portal token').detail).toMatch(/\(invalid portal token\)\. Ask whoever/);
  });
});
