// Query: the state of one API read a component shows (data, error, loading),
// safe against answers arriving out of order.
export class Query<T> {
  data = $state<T | undefined>(undefined);
  error = $state<unknown>(undefined);
  /** True while a load (not a background refresh) runs. */
  loading = $state(false);
  /** When the data last arrived. */
  updatedAt = $state<Date | undefined>(undefined);
  private seq = 0;

  constructor(private fetcher: () => Promise<T>) {}

  /** load fetches, showing the loading state; the last load started wins. */
  load(): Promise<void> {
    return this.run(true);
  }

  /** refresh fetches in the background, keeping what is shown until the answer arrives. */
  refresh(): Promise<void> {
    return this.run(false);
  }

  private async run(visible: boolean): Promise<void> {
    const seq = ++this.seq;
    if (visible) this.loading = true;
    try {
      const data = await this.fetcher();
      if (seq !== this.seq) return;
      this.data = data;
      this.error = undefined;
      this.updatedAt = new Date();
    } catch (err) {
      if (seq !== this.seq) return;
      this.error = err;
    } finally {
      if (seq === this.seq) this.loading = false;
    }
  }
}

/**
 * every calls fn every ms while the page is visible, and once more when it
 * becomes visible again; it returns the function that stops it (an
 * $effect's cleanup).
 */
export function every(ms: number, fn: () => void): () => void {
  const tick = () => {
    if (!document.hidden) fn();
  };
  const timer = setInterval(tick, ms);
  document.addEventListener('visibilitychange', tick);
  return () => {
    clearInterval(timer);
    document.removeEventListener('visibilitychange', tick);
  };
}
