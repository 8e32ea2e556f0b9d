#!/usr/bin/env node
// `unified-bridge serve`: the standalone server. Prints exactly one JSON line
// on stdout when ready ({"event":"listening",...}); every log line is JSON on
// stderr. SIGTERM/SIGINT shut down gracefully and exit 0.
import { createCliProgram } from './cli-options.js';
import { createBridgeLogger } from './logger.js';
import { startTracingFromEnv } from './otel-sdk.js';
import type { StopTracing } from './otel-sdk.js';
import { startBridgeServer } from './server.js';
import { loadToolsModule } from './tools-module.js';

const program = createCliProgram(process.env, async ({ options, logLevel, toolsModule }) => {
  const logger = createBridgeLogger(logLevel);
  let server;
  let stopTracing: StopTracing | undefined;
  try {
    stopTracing = await startTracingFromEnv(process.env, logger);
    const tools = toolsModule === undefined ? [] : await loadToolsModule(toolsModule);
    server = await startBridgeServer({ ...options, tools, logger });
  } catch (err) {
    logger.error({ err }, 'failed to start');
    await stopTracing?.().catch(() => {});
    process.exitCode = 1;
    return;
  }
  const ready = {
    event: 'listening',
    url: server.url,
    port: server.port,
    pid: process.pid,
    protocols: server.protocols,
    ...(server.metricsUrl !== undefined ? { metrics: server.metricsUrl } : {}),
  };
  process.stdout.write(JSON.stringify(ready) + '\n');

  const started = server;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, 'signal received: shutting down');
    started
      .stop()
      .then(() => stopTracing?.())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
});

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
