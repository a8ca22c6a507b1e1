/** Sparrow's own event types (alerts the engine raises) start with this. */
export const systemPrefix = 'sparrow.';

/**
 * isSystemType reports whether an event type is one of Sparrow's own: only
 * the engine pushes them, so the dashboard offers neither sending nor
 * deactivating them.
 */
export function isSystemType(name: string): boolean {
  return name.startsWith(systemPrefix);
}
