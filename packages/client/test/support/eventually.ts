/**
 * Waits until `check` returns true (polled on timers, bounded): synchronises
 * on an observable condition instead of a fixed sleep.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what = 'condition',
  limitMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}
