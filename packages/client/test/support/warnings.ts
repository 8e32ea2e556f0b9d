/**
 * Collects the warnings Node emits (`process.on('warning')`) until `stop()`.
 * Listens on the real process: Jest gives each test file a copy of `process`
 * whose events Node itself never emits.
 */
export function collectWarnings(): { readonly warnings: Error[]; stop(): void } {
  const real = process.getBuiltinModule('node:process');
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  real.on('warning', onWarning);
  return { warnings, stop: () => real.off('warning', onWarning) };
}
