// The one pause of the project: ends after `ms`, or at once when `signal` aborts (an interrupt, a
// poke of a wait, a line of a followed log), and clears its timer either way.

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
