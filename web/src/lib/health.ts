// Health and webhook states, as the API names them.
import type { Tone } from './deliveries';

/** The health states, best first, as GetHealthSummary counts them. */
export const healthStates = ['healthy', 'degraded', 'unhealthy', 'disabled', 'paused', 'unknown'] as const;

export function healthTone(state: string): Tone {
  switch (state) {
    case 'healthy':
      return 'ok';
    case 'degraded':
    case 'paused':
      return 'warn';
    case 'unhealthy':
    case 'disabled':
      return 'bad';
    default:
      return 'muted';
  }
}

export const healthHelp: Record<string, string> = {
  healthy: 'Deliveries succeed.',
  degraded: 'Some deliveries fail.',
  unhealthy: 'Most deliveries fail.',
  disabled: 'Sparrow stopped delivering after sustained failure.',
  paused: 'Paused: no attempts are made until it is resumed.',
  unknown: 'Too few attempts to tell.',
};

/** webhookTone is the colour of a webhook's own state: active, paused or disabled. */
export function webhookTone(state: string): Tone {
  switch (state) {
    case 'active':
      return 'ok';
    case 'paused':
      return 'warn';
    case 'disabled':
      return 'bad';
    default:
      return 'muted';
  }
}

/**
 * shownHealth is the health to show for a webhook: a paused one is
 * "paused", whatever its last attempts said (servers before health_status
 * "paused" still graded it on them).
 */
export function shownHealth(webhookState: string, healthStatus: string): string {
  return webhookState === 'paused' ? 'paused' : healthStatus;
}

/** The spans a webhook's health can cover, and their names in the URL (?health=24h). */
export const healthWindows = [
  { key: '1h', seconds: 3600, label: '1 hour', step: 'minute' },
  { key: '24h', seconds: 86400, label: '24 hours', step: '10 minutes' },
  { key: '7d', seconds: 604800, label: '7 days', step: 'hour' },
] as const;

export type HealthWindow = (typeof healthWindows)[number];

/** healthWindow reads the window from a URL's query: 1 hour unless it names another. */
export function healthWindow(params: URLSearchParams): HealthWindow {
  const key = params.get('health');
  return healthWindows.find((w) => w.key === key) ?? healthWindows[0];
}

/** stepSeconds is how long a timeline point is over a window: a minute for an hour, ten for a day, an hour for a week. */
export function stepSeconds(windowSeconds: number): number {
  if (windowSeconds <= 3600) return 60;
  if (windowSeconds <= 86400) return 600;
  return 3600;
}

/** periodText names the span a window covers: "the last hour", "the last 24 hours", "the last 7 days". */
export function periodText(windowSeconds: number): string {
  if (windowSeconds === 3600) return 'the last hour';
  if (windowSeconds % 86400 === 0 && windowSeconds > 86400) return `the last ${windowSeconds / 86400} days`;
  if (windowSeconds % 3600 === 0) return `the last ${windowSeconds / 3600} hours`;
  if (windowSeconds % 60 === 0) return `the last ${windowSeconds / 60} minutes`;
  return `the last ${windowSeconds} seconds`;
}
