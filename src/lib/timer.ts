/**
 * A periodic task that never keeps the process alive and never overlaps itself.
 * @module
 */

/**
 * Runs `task` every `everyMs`; returns a function that stops it. With `jitter` (a fraction,
 * e.g. 0.2), each wait is drawn from `everyMs` ± that fraction, so that instances started
 * together (a deploy) do not all tick at the same moment.
 */
export function startTimer(everyMs: number, task: () => Promise<void>, jitter = 0): () => void {
  if (jitter === 0) {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      task().finally(() => {
        running = false;
      });
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }
  let stopped = false;
  let timer: NodeJS.Timeout;
  const schedule = () => {
    timer = setTimeout(
      () => {
        // The next wait starts when this tick ends: ticks cannot overlap.
        task().finally(() => {
          if (!stopped) schedule();
        });
      },
      Math.round(everyMs * (1 - jitter + 2 * jitter * Math.random())),
    );
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
