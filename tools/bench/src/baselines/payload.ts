/**
 * The payload every unary baseline carries: a GetVariable request and a
 * response holding one integer variable, encoded with the project's own
 * protobuf schema, so the floor, grpc-js, connect-node and Redis move the
 * same number of bytes as a bridge `get`.
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  GetVariableRequestSchema,
  GetVariableResponseSchema,
  type GetVariableRequest,
  type GetVariableResponse,
} from '@unified-bridge/proto';

/** Method path used by the gRPC baselines (the bridge's own GetVariable). */
export const GET_VARIABLE_PATH = '/unified_bridge.v1.VariableService/GetVariable';

/** Builds the request for a variable name. */
export function makeRequest(name = 'bench_var_0'): GetVariableRequest {
  return create(GetVariableRequestSchema, { sessionId: 'bench-session', identifier: name });
}

/** Builds the canned response for a variable name (what a bridge get returns). */
export function makeResponse(name = 'bench_var_0'): GetVariableResponse {
  const at = timestampFromMs(1_700_000_000_000);
  return create(GetVariableResponseSchema, {
    variable: {
      id: `var_${name}_k3j9x2`,
      name,
      type: 'integer',
      value: { kind: { case: 'intValue', value: 42n } },
      version: 3n,
      revision: 17n,
      createdAt: at,
      updatedAt: at,
    },
  });
}

/** Encoded request bytes. */
export const REQUEST_BYTES: Uint8Array = toBinary(GetVariableRequestSchema, makeRequest());
/** Encoded response bytes. */
export const RESPONSE_BYTES: Uint8Array = toBinary(GetVariableResponseSchema, makeResponse());
