/**
 * What the tool cases carry, shared by the bridge child (host tools), the
 * worker child (worker tools) and the connect-node streaming baseline, so
 * every side moves the same bytes: a small JSON echo, and 10 MiB as 160
 * uint8 tensors of 64 KiB.
 */

/** Bytes of one streamed chunk (a uint8 tensor of this many elements). */
export const CHUNK_BYTES = 64 * 1024;
/** Bytes of one whole stream: 10 MiB. */
export const STREAM_BYTES = 10 * 1024 * 1024;
/** Chunks per stream. */
export const STREAM_CHUNKS = STREAM_BYTES / CHUNK_BYTES;

/** Arguments of every echo call (answered as they came, as a JSON value). */
export const ECHO_ARGS = { text: 'hello bench', n: 42, flag: true } as const;

/** Host tool: returns its arguments. */
export const HOST_ECHO = 'bench_echo';
/** Host tool: a + b (the small CPU-light tool of the concurrency and batch cases). */
export const HOST_ADD = 'bench_add';
/** Host streaming tool: `{ bytes, chunkBytes }` -> uint8 tensors of `chunkBytes` until `bytes` are sent. */
export const HOST_BYTES = 'bench_bytes';
/** Worker tool (served by the forked worker child): returns its arguments. */
export const WORKER_ECHO = 'bench_worker_echo';

/**
 * The chunk every streaming side sends: one pre-filled 64 KiB buffer, never
 * mutated, so every message may share it.
 */
export const CHUNK: Uint8Array = Uint8Array.from({ length: CHUNK_BYTES }, (_, i) => (i * 31) & 0xff);

/** Splits `bytes` into chunk sizes of at most `chunkBytes`. */
export function chunkSizes(bytes: number, chunkBytes: number): number[] {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`bytes must be a non-negative integer, got ${bytes}`);
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > CHUNK_BYTES) {
    throw new RangeError(`chunkBytes must be an integer from 1 to ${CHUNK_BYTES}, got ${chunkBytes}`);
  }
  const out: number[] = [];
  for (let left = bytes; left > 0; left -= chunkBytes) out.push(Math.min(chunkBytes, left));
  return out;
}
