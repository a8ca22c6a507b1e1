// Health and webhook states, as the API names them.
import type { Tone } from './deliveries';

/** The health states, best first, as GetHealthSummary counts them. */
export const healthStates = ['healthy', 'degraded', 'unhealthy', 'disabled', 'unknown'] as const;

export function healthTone(state: string): Tone {
  switch (state) {
    case 'healthy':
      return 'ok';
    case 'degraded':
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
