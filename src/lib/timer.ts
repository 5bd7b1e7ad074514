/**
 * A periodic task that never keeps the process alive and never overlaps itself.
 * @module
 */

/** Runs `task` every `everyMs`; returns a function that stops it. */
export function startTimer(everyMs: number, task: () => Promise<void>): () => void {
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
