import { createCliProgram, DEFAULT_CLI_PORT, resolveServe } from './cli-options.js';
import type { ServeCommand } from './cli-options.js';

describe('resolveServe', () => {
  it('should default to 127.0.0.1:50051, info logs, no auth', () => {
    expect(resolveServe({}, {})).toEqual({ logLevel: 'info', options: { host: '127.0.0.1', port: DEFAULT_CLI_PORT } });
    expect(DEFAULT_CLI_PORT).toBe(50051);
  });

  it('should prefer flags over UNIFIED_BRIDGE_* over PORT', () => {
    expect(resolveServe({}, { PORT: '8080' }).options.port).toBe(8080);
    expect(resolveServe({}, { PORT: '8080', UNIFIED_BRIDGE_PORT: '9090' }).options.port).toBe(9090);
    expect(resolveServe({ port: 0 }, { PORT: '8080', UNIFIED_BRIDGE_PORT: '9090' }).options.port).toBe(0);
    expect(resolveServe({}, { UNIFIED_BRIDGE_HOST: '0.0.0.0' }).options.host).toBe('0.0.0.0');
  });

  it('should convert units and merge tokens from flags and env', () => {
    const r = resolveServe(
      { sessionTtl: 60, maxMessageBytes: 2048, authToken: ['a'], graceMs: 5 },
      { UNIFIED_BRIDGE_AUTH_TOKENS: 'b, c,,', UNIFIED_BRIDGE_LOG_LEVEL: 'debug' },
    );
    expect(r).toEqual({
      logLevel: 'debug',
      options: {
        host: '127.0.0.1',
        port: 50051,
        sessionTtlMs: 60_000,
        maxMessageBytes: 2048,
        graceMs: 5,
        auth: { tokens: ['a', 'b', 'c'] },
      },
    });
  });

  it('should reject bad env values naming the variable, and half a TLS pair', () => {
    expect(() => resolveServe({}, { PORT: '70000' })).toThrow(/PORT/);
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_SESSION_TTL: 'soon' })).toThrow(/UNIFIED_BRIDGE_SESSION_TTL/);
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_LOG_LEVEL: 'loud' })).toThrow(/UNIFIED_BRIDGE_LOG_LEVEL/);
    expect(() => resolveServe({ tlsCert: 'c.pem' }, {})).toThrow(/--tls-cert and --tls-key/);
  });

  it('should resolve the tool options from flags and env', () => {
    expect(
      resolveServe(
        { rateLimit: 2.5, toolTimeoutMs: 100, toolsModule: './tools.mjs' },
        { UNIFIED_BRIDGE_RATE_LIMIT_BURST: '5', UNIFIED_BRIDGE_WORKER_HEARTBEAT_MS: '250' },
      ),
    ).toEqual({
      logLevel: 'info',
      toolsModule: './tools.mjs',
      options: {
        host: '127.0.0.1',
        port: 50051,
        rateLimit: { callsPerSecond: 2.5, burst: 5 },
        defaultToolTimeoutMs: 100,
        workerHeartbeatIntervalMs: 250,
      },
    });
    expect(resolveServe({}, { UNIFIED_BRIDGE_RATE_LIMIT: '10' }).options.rateLimit).toEqual({ callsPerSecond: 10 });
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_RATE_LIMIT: '0' })).toThrow(/UNIFIED_BRIDGE_RATE_LIMIT/);
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_RATE_LIMIT: 'fast' })).toThrow(/rate limit/);
    expect(() => resolveServe({ rateLimitBurst: 3 }, {})).toThrow(/--rate-limit-burst needs --rate-limit/);
  });

  it('should resolve compression and reflection from flags and env', () => {
    expect(resolveServe({ compression: 'gzip', compressMinBytes: 0 }, {}).options).toMatchObject({
      compression: 'gzip',
      compressMinBytes: 0,
    });
    expect(
      resolveServe({}, { UNIFIED_BRIDGE_COMPRESSION: 'gzip', UNIFIED_BRIDGE_COMPRESS_MIN_BYTES: '4096' }).options,
    ).toMatchObject({ compression: 'gzip', compressMinBytes: 4096 });
    expect(resolveServe({ compression: 'none' }, { UNIFIED_BRIDGE_COMPRESSION: 'gzip' }).options.compression).toBe(
      'none',
    );
    expect(resolveServe({}, { UNIFIED_BRIDGE_REFLECTION: 'false' }).options.reflection).toBe(false);
    expect(resolveServe({}, { UNIFIED_BRIDGE_REFLECTION: 'on' }).options).not.toHaveProperty('reflection');
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_COMPRESSION: 'br' })).toThrow(/UNIFIED_BRIDGE_COMPRESSION/);
    expect(() => resolveServe({}, { UNIFIED_BRIDGE_REFLECTION: 'maybe' })).toThrow(/UNIFIED_BRIDGE_REFLECTION/);
    expect(() => resolveServe({ compressMinBytes: 10 }, {})).toThrow(/--compress-min-bytes needs --compression gzip/);
  });
});

describe('createCliProgram', () => {
  /** Parses `serve ...args` with `env` and returns what the server would start with. */
  async function serve(args: string[], env: Record<string, string> = {}): Promise<ServeCommand> {
    let resolved: ServeCommand | undefined;
    const program = createCliProgram(env, async (c) => {
      resolved = c;
    });
    program.exitOverride();
    await program.parseAsync(['serve', ...args], { from: 'user' });
    return resolved!;
  }

  it('should serve reflection and no response compression unless told otherwise', async () => {
    const { options } = await serve([]);
    expect(options).not.toHaveProperty('reflection');
    expect(options).not.toHaveProperty('compression');
  });

  it('should read --no-reflection and --compression, and let an unset flag fall back to the env', async () => {
    expect((await serve(['--no-reflection', '--compression', 'gzip'])).options).toMatchObject({
      reflection: false,
      compression: 'gzip',
    });
    expect((await serve([], { UNIFIED_BRIDGE_REFLECTION: '0' })).options.reflection).toBe(false);
  });

  it('should refuse a compression that is not gzip or none', async () => {
    const program = createCliProgram({}, async () => undefined);
    program.exitOverride();
    program.commands[0]!.exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(program.parseAsync(['serve', '--compression', 'br'], { from: 'user' })).rejects.toThrow(
      /Allowed choices are gzip, none/,
    );
  });
});
