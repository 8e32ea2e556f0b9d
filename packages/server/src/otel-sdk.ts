// The CLI's tracing: when the standard OpenTelemetry environment asks for
// traces (OTEL_TRACES_EXPORTER, or an OTLP endpoint), the CLI starts the
// OpenTelemetry Node SDK, which reads every other OTEL_* variable itself
// (service name, exporter protocol, headers, sampler). The SDK is an
// optional peer dependency, loaded only then: the library never needs it.
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { BridgeLogger } from './logger.js';

/** What {@link startTracingFromEnv} started: call it at exit to flush the spans. */
export type StopTracing = () => Promise<void>;

/** The environment variables that turn tracing on (any one of them, unless OTEL_SDK_DISABLED=true). */
export const TRACING_ENV = [
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
] as const;

/** Whether the environment asks for traces. */
export function tracingWanted(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim();
  if (exporter === 'none') return false;
  return TRACING_ENV.some((name) => (env[name] ?? '').trim() !== '');
}

/**
 * Starts the OpenTelemetry Node SDK when {@link tracingWanted}; resolves to
 * its shutdown (undefined when not started). Without the SDK installed it
 * logs a warning and the server runs without exporting traces.
 */
export async function startTracingFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  logger: BridgeLogger,
): Promise<StopTracing | undefined> {
  if (!tracingWanted(env)) return undefined;
  let sdkModule: { readonly NodeSDK: typeof NodeSDK };
  try {
    sdkModule = await import('@opentelemetry/sdk-node');
  } catch (err) {
    logger.warn(
      { err: (err as Error).message },
      'OTEL_* asks for traces but @opentelemetry/sdk-node is not installed (npm install @opentelemetry/sdk-node): no traces are exported',
    );
    return undefined;
  }
  const sdk = new sdkModule.NodeSDK(
    (env['OTEL_SERVICE_NAME'] ?? '').trim() === '' ? { serviceName: 'unified-bridge' } : {},
  );
  sdk.start();
  logger.info({ exporter: env['OTEL_TRACES_EXPORTER'] ?? 'otlp' }, 'tracing on (OpenTelemetry SDK)');
  return () => sdk.shutdown();
}
