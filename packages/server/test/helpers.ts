// Shared helpers of the server's specs: transports for every protocol, error
// inspection, a controllable clock.
import { Code, ConnectError } from '@connectrpc/connect';
import type { Transport } from '@connectrpc/connect';
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node';
import { ErrorDetailSchema } from '@unified-bridge/proto';
import type { ErrorDetail, ErrorType } from '@unified-bridge/proto';
import type { Interceptor } from '@connectrpc/connect';

/** The names of the {@link transportsFor} cases, in order (for test titles). */
export const TRANSPORT_NAMES = [
  'gRPC over HTTP/2',
  'gRPC-Web over HTTP/1.1',
  'gRPC-Web over HTTP/2',
  'Connect JSON over HTTP/1.1',
  'Connect binary over HTTP/1.1',
  'Connect JSON over HTTP/2',
  'Connect binary over HTTP/2',
] as const;

/** One way of talking to a server: protocol, encoding, HTTP version. */
export interface TransportCase {
  readonly name: string;
  readonly transport: Transport;
}

/**
 * Transports for every protocol and HTTP version the server serves on one
 * port. `close()` ends the HTTP/2 sessions the transports opened.
 */
export function transportsFor(
  baseUrl: string,
  interceptors: Interceptor[] = [],
): { cases: TransportCase[]; close(): void } {
  const managers: Http2SessionManager[] = [];
  const h2 = () => {
    const m = new Http2SessionManager(baseUrl);
    managers.push(m);
    return { httpVersion: '2' as const, sessionManager: m };
  };
  const cases: TransportCase[] = [
    { name: 'gRPC over HTTP/2', transport: createGrpcTransport({ baseUrl, ...h2(), interceptors }) },
    {
      name: 'gRPC-Web over HTTP/1.1',
      transport: createGrpcWebTransport({ baseUrl, httpVersion: '1.1', interceptors }),
    },
    { name: 'gRPC-Web over HTTP/2', transport: createGrpcWebTransport({ baseUrl, ...h2(), interceptors }) },
    {
      name: 'Connect JSON over HTTP/1.1',
      transport: createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: false, interceptors }),
    },
    {
      name: 'Connect binary over HTTP/1.1',
      transport: createConnectTransport({ baseUrl, httpVersion: '1.1', useBinaryFormat: true, interceptors }),
    },
    {
      name: 'Connect JSON over HTTP/2',
      transport: createConnectTransport({ baseUrl, ...h2(), useBinaryFormat: false, interceptors }),
    },
    {
      name: 'Connect binary over HTTP/2',
      transport: createConnectTransport({ baseUrl, ...h2(), useBinaryFormat: true, interceptors }),
    },
  ];
  return {
    cases,
    close: () => {
      for (const m of managers) m.abort();
    },
  };
}

/** Awaits a call that must fail; returns its ConnectError and its one ErrorDetail. */
export async function failure(p: Promise<unknown>): Promise<{ err: ConnectError; detail: ErrorDetail }> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error('expected the call to fail, but it succeeded');
  const err = ConnectError.from(caught);
  const details = err.findDetails(ErrorDetailSchema);
  if (details.length !== 1) {
    throw new Error(`expected exactly one ErrorDetail, got ${details.length} on [${Code[err.code]}] ${err.rawMessage}`);
  }
  return { err, detail: details[0]! };
}

/** Asserts that `p` fails with `code` and an ErrorDetail of `type`; returns the detail. */
export async function expectFailure(p: Promise<unknown>, code: Code, type: ErrorType): Promise<ErrorDetail> {
  const { err, detail } = await failure(p);
  expect({ code: Code[err.code], type: detail.type }).toEqual({ code: Code[code], type });
  return detail;
}

/** A clock the test moves by hand (session expiry without sleeping). */
export class FakeClock {
  ms = Date.UTC(2025, 0, 1);
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A logger that records every line (to check request ids end up in the log). */
export function recordingLogger(): {
  lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[];
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
} {
  const lines: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { lines, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

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
