/**
 * Every case name the bench can record, with what it measures. README.md
 * lists the same table (a spec keeps them equal); `{n}` stands for a number.
 */

/** Suites in run order. */
export const SUITE_NAMES = ['baselines', 'redis', 'bridge', 'tools', 'types', 'store'] as const;

/** One catalogue entry. */
export interface CatalogEntry {
  /** Case name; `{n}` matches a decimal number. */
  pattern: string;
  /** Unit of median/p99. */
  unit: string;
  /** What it measures. */
  what: string;
}

/** The case catalogue, in report order. */
export const CATALOG: readonly CatalogEntry[] = [
  {
    pattern: 'floor.http2.unary',
    unit: 'us',
    what: 'The floor: raw node:http2 POST round trip, GetVariable-sized request and response, 1 in flight',
  },
  {
    pattern: 'floor.http2.concurrent.w{n}',
    unit: 'us',
    what: 'Floor at {n} concurrent workers, two round trips per op (like get + set); floor of the concurrency cases',
  },
  {
    pattern: 'baseline.grpcjs.unary',
    unit: 'us',
    what: '@grpc/grpc-js server and client, GetVariable with a canned answer, 1 in flight',
  },
  {
    pattern: 'baseline.grpcjs.concurrent.w{n}',
    unit: 'us',
    what: 'grpc-js at {n} concurrent workers, two calls per op',
  },
  {
    pattern: 'baseline.connect.grpc.unary',
    unit: 'us',
    what: 'Bare connect-node server (no logic of ours), gRPC protocol, 1 in flight',
  },
  {
    pattern: 'baseline.connect.connect.unary',
    unit: 'us',
    what: 'Bare connect-node server, Connect protocol (binary), 1 in flight',
  },
  {
    pattern: 'baseline.connect.grpc.concurrent.w{n}',
    unit: 'us',
    what: 'Bare connect-node at {n} concurrent workers, two calls per op',
  },
  {
    pattern: 'baseline.redis.get',
    unit: 'us',
    what: 'ioredis GET of a value the size of a GetVariable response, local redis-server',
  },
  { pattern: 'baseline.redis.set', unit: 'us', what: 'ioredis SET of the same value' },
  {
    pattern: 'bridge.grpc.register',
    unit: 'us',
    what: 'Register an integer variable through @unified-bridge/client, gRPC protocol',
  },
  { pattern: 'bridge.connect.register', unit: 'us', what: 'Same, Connect protocol' },
  {
    pattern: 'bridge.grpc.get.uncached',
    unit: 'us',
    what: 'Get with an empty client cache (a round trip), gRPC protocol',
  },
  { pattern: 'bridge.connect.get.uncached', unit: 'us', what: 'Same, Connect protocol' },
  {
    pattern: 'bridge.grpc.get.cached',
    unit: 'us',
    what: 'Get answered by the client cache (no round trip), timed in batches',
  },
  { pattern: 'bridge.connect.get.cached', unit: 'us', what: 'Same, Connect-protocol client' },
  {
    pattern: 'bridge.grpc.update',
    unit: 'us',
    what: 'Set a variable (validated locally and by the server), gRPC protocol',
  },
  { pattern: 'bridge.connect.update', unit: 'us', what: 'Same, Connect protocol' },
  {
    pattern: 'bridge.grpc.raw.get',
    unit: 'us',
    what: 'GetVariable on the bridge server with a plain connect-es client (our server, not our client library)',
  },
  {
    pattern: 'bridge.grpc.raw.get.metrics_on',
    unit: 'us',
    what: 'Same get, plain connect-es client, on the bridge server with its Prometheus metrics (the default): alternating rounds with metrics_off',
  },
  {
    pattern: 'bridge.grpc.raw.get.metrics_off',
    unit: 'us',
    what: 'Same get on a second bridge server started with metrics: false, in the same alternating rounds',
  },
  {
    pattern: 'bridge.server.metrics_cpu_overhead',
    unit: '%',
    what: 'Server CPU per get with metrics on over metrics off, minus 1, in percent (budget: under 5)',
  },
  {
    pattern: 'bridge.grpc.batch.individual_100',
    unit: 'ms',
    what: '100 updates one after another (one sample = all 100)',
  },
  { pattern: 'bridge.grpc.batch.update_100', unit: 'ms', what: 'One atomic batch update of 100 variables' },
  { pattern: 'bridge.grpc.batch.get_{n}', unit: 'ms', what: 'One batch get of {n} variables (cache bypassed)' },
  {
    pattern: 'bridge.grpc.access8020.ttl',
    unit: 'us',
    what: '1000 accesses, 20 float variables, 4 hot ones get 80%: TTL cache',
  },
  { pattern: 'bridge.grpc.access8020.watch', unit: 'us', what: 'Same pattern with the watch-coherent cache' },
  {
    pattern: 'bridge.grpc.access8020.ttl.hit_rate',
    unit: '%',
    what: 'Cache hit rate of the TTL run (client cache statistics)',
  },
  { pattern: 'bridge.grpc.access8020.watch.hit_rate', unit: '%', what: 'Cache hit rate of the watch run' },
  {
    pattern: 'bridge.grpc.concurrent.w{n}',
    unit: 'us',
    what: '{n} concurrent workers, op = get + set on concurrent_{i%10}, no client cache; ops/s is throughput',
  },
  { pattern: 'bridge.grpc.get.session_{n}', unit: 'us', what: 'Uncached get in a session holding {n} variables' },
  {
    pattern: 'bridge.server.heap_per_variable',
    unit: 'bytes',
    what: 'Server heap growth per variable (after gc) when the large session is loaded',
  },
  {
    pattern: 'tools.grpc.host.echo',
    unit: 'us',
    what: 'Host tool (in the bridge server) returning its arguments, called with callWithMetrics, 1 in flight',
  },
  {
    pattern: 'tools.grpc.worker.echo',
    unit: 'us',
    what: 'Same echo served by a tool worker (client.serveTools) in its own process; worker CPU in extra',
  },
  {
    pattern: 'baseline.connect.grpc.stream_10mib',
    unit: 'ms',
    what: 'Bare connect-node server stream of the same messages: 10 MiB as 160 uint8 tensors of 64 KiB',
  },
  {
    pattern: 'baseline.connect.grpc.stream_10mib.throughput',
    unit: 'MB/s',
    what: 'Throughput of that baseline stream (10^6 bytes/s)',
  },
  {
    pattern: 'tools.grpc.host.stream_10mib',
    unit: 'ms',
    what: 'Streaming host tool, 10 MiB in 64 KiB uint8 tensors, read with session.tools.stream; × floor = × the baseline',
  },
  {
    pattern: 'tools.grpc.host.stream_10mib.throughput',
    unit: 'MB/s',
    what: 'Throughput of the tool stream; extra says whether the seed target (> 50 MB/s) is met',
  },
  {
    pattern: 'tools.grpc.host.concurrent.w{n}',
    unit: 'us',
    what: '{n} calls in flight of a small add tool (one client, one connection); ops/s is calls/s',
  },
  {
    pattern: 'tools.grpc.host.batch.sequential_{n}',
    unit: 'ms',
    what: '{n} add calls one after another (one sample = all {n})',
  },
  {
    pattern: 'tools.grpc.host.batch.call_many_{n}',
    unit: 'ms',
    what: 'The same {n} calls in one callMany (ExecuteTools); extra has the speed-up',
  },
  {
    pattern: 'types.validate.float_minmax',
    unit: 'ns',
    what: 'Validate a float against min/max; ops/s = validations/s',
  },
  { pattern: 'types.validate.string_pattern', unit: 'ns', what: 'Validate a string against a pattern (RE2)' },
  { pattern: 'types.validate.embedding_768', unit: 'ns', what: 'Validate a 768-dimension embedding' },
  {
    pattern: 'types.validate.json_schema',
    unit: 'ns',
    what: 'Validate a JSON value against a small JSON Schema (ajv)',
  },
  {
    pattern: 'types.redos.nested_quantifier_100k',
    unit: 'ms',
    what: 'Validate 100,000 characters against the pattern (a+)+$ (catastrophic for backtracking engines)',
  },
  {
    pattern: 'store.get.n{n}',
    unit: 'ns',
    what: 'MemoryStore getVariable of random keys across a session of {n} variables (includes CPU cache misses)',
  },
  {
    pattern: 'store.get_hot.n{n}',
    unit: 'ns',
    what: 'MemoryStore getVariable of the same 10 names over and over, session of {n} variables (the lookup itself)',
  },
  { pattern: 'store.update.n{n}', unit: 'ns', what: 'MemoryStore updateVariable in a session of {n} variables' },
  {
    pattern: 'store.map_reference.n{n}',
    unit: 'ns',
    what: 'Reference: a plain Map lookup with the same keys and access order (what memory latency alone costs)',
  },
  {
    pattern: 'store.heap_per_variable.n{n}',
    unit: 'bytes',
    what: 'Heap per small integer variable with history on, {n} variables, after gc',
  },
  {
    pattern: 'store.watch.fanout',
    unit: 'ns',
    what: 'Watch fan-out: watchers x updates, time per delivered event; ops/s = events/s',
  },
  {
    pattern: 'store.watch.heap_per_watcher',
    unit: 'bytes',
    what: 'Heap per watcher during the fan-out case (after gc)',
  },
];

const REGEXES = CATALOG.map(
  (e) => new RegExp(`^${e.pattern.replace(/[.*+?^${}()|[\]\\]/g, (ch) => `\\${ch}`).replace(/\\\{n\\\}/g, '\\d+')}$`),
);

/** True when `name` matches a catalogue entry. */
export function isKnownCase(name: string): boolean {
  return REGEXES.some((r) => r.test(name));
}
