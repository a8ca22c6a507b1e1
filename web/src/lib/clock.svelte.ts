// A clock for relative times ("5m ago") that moves on by itself.
let current = $state(new Date());
let timer: ReturnType<typeof setInterval> | undefined;

export const clock = {
  /** The time, updated every second once someone reads it. */
  get now(): Date {
    timer ??= setInterval(() => (current = new Date()), 1000);
    return current;
  },
};
