// Cursor pagination, as the API does it: a page's next_cursor fetches the
// next page, an empty one ends the list. Going back needs the cursors of the
// pages before, which the API doesn't give, so the pager keeps them. Its
// fields are reactive state: a component reading them updates with them.
export class CursorPager {
  /** The cursors of the pages before the current one; the first page's is ''. */
  private before = $state<string[]>([]);
  /** The current page's cursor. */
  cursor = $state('');

  /** page is the current page's number, from 1. */
  get page(): number {
    return this.before.length + 1;
  }

  get hasPrevious(): boolean {
    return this.before.length > 0;
  }

  /** next moves to the page next_cursor starts. */
  next(nextCursor: string): void {
    if (!nextCursor) return;
    this.before.push(this.cursor);
    this.cursor = nextCursor;
  }

  previous(): void {
    this.cursor = this.before.pop() ?? '';
  }

  reset(): void {
    this.before = [];
    this.cursor = '';
  }
}
