import { createCliProgram, resolveServe } from './cli-options.js';
import { tracingWanted } from './otel-sdk.js';

describe('resolveServe: metrics', () => {
  it('should serve no metrics unless asked, on a port of their own or on the main port', () => {
    expect(resolveServe({}, {}).options.metrics).toBeUndefined();
    expect(resolveServe({ metricsPort: 0 }, {}).options.metrics).toEqual({ port: 0 });
    expect(resolveServe({ metricsPort: 9464, metricsHost: '0.0.0.0' }, {}).options.metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
    });
    expect(resolveServe({ metricsOnMainPort: true }, {}).options.metrics).toEqual({ onMainPort: true });
    expect(
      resolveServe({}, { UNIFIED_BRIDGE_METRICS_PORT: '9100', UNIFIED_BRIDGE_METRICS_ON_MAIN_PORT: 'true' }).options
        .metrics,
    ).toEqual({ port: 9100, onMainPort: true });
    expect(resolveServe({}, { UNIFIED_BRIDGE_METRICS_ON_MAIN_PORT: 'false' }).options.metrics).toBeUndefined();
  });

  it('should refuse bad metrics settings with a message naming them', () => {
    expect(() => resolveServe({ metricsHost: '0.0.0.0' }, {})).toThrow(/--metrics-host needs --metrics-port/);
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_METRICS_PORT: '70000' })).toThrow(
      /UNIFIED_BRIDGE_METRICS_PORT: metrics port must be from 0 to 65535/,
    );
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_METRICS_ON_MAIN_PORT: 'yes' })).toThrow(
      /UNIFIED_BRIDGE_METRICS_ON_MAIN_PORT: must be true or false/,
    );
  });

  it('should parse the flags with commander (a switch takes no value)', async () => {
    let seen: unknown;
    const program = createCliProgram({}, async (c) => {
      seen = c.options.metrics;
    });
    program.exitOverride();
    await program.parseAsync(['serve', '--metrics-port', '0', '--metrics-on-main-port'], { from: 'user' });
    expect(seen).toEqual({ port: 0, onMainPort: true });
  });
});

describe('tracingWanted', () => {
  it('should turn tracing on with OTEL_TRACES_EXPORTER or an OTLP endpoint, unless disabled', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(false);
    expect(tracingWanted({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
    expect(tracingWanted({ OTEL_SERVICE_NAME: 'x' })).toBe(false);
  });
});
