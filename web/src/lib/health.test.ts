import { describe, expect, it } from 'vitest';
import { healthTone, healthWindow, periodText, shownHealth, stepSeconds } from './health';

describe('health of a paused webhook', () => {
  it('is "paused", whatever its last attempts said', () => {
    expect(shownHealth('paused', 'degraded')).toBe('paused');
    expect(shownHealth('paused', 'paused')).toBe('paused');
    expect(shownHealth('active', 'degraded')).toBe('degraded');
    expect(shownHealth('disabled', 'disabled')).toBe('disabled');
    expect(healthTone('paused')).toBe('warn');
  });
});

describe('health windows', () => {
  it('come from the URL, an hour unless named', () => {
    expect(healthWindow(new URLSearchParams('health=24h')).seconds).toBe(86400);
    expect(healthWindow(new URLSearchParams('health=7d')).seconds).toBe(604800);
    expect(healthWindow(new URLSearchParams('health=3y')).seconds).toBe(3600);
    expect(healthWindow(new URLSearchParams('')).key).toBe('1h');
  });
  it('have points of a minute, ten minutes or an hour', () => {
    expect(stepSeconds(3600)).toBe(60);
    expect(stepSeconds(600)).toBe(60);
    expect(stepSeconds(86400)).toBe(600);
    expect(stepSeconds(604800)).toBe(3600);
  });
  it('name their span', () => {
    expect(periodText(3600)).toBe('the last hour');
    expect(periodText(86400)).toBe('the last 24 hours');
    expect(periodText(604800)).toBe('the last 7 days');
    expect(periodText(600)).toBe('the last 10 minutes');
  });
});
