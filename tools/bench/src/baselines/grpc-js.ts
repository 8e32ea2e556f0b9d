/**
 * grpc-js baseline server: the bridge's GetVariable method served by
 * @grpc/grpc-js with protobuf-es (de)serialisation and a canned answer
 * (the identifier echoed into the variable name). No logic of ours.
 */
import * as grpc from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  GetVariableRequestSchema,
  GetVariableResponseSchema,
  type GetVariableRequest,
  type GetVariableResponse,
} from '@unified-bridge/proto';
import { serveChild } from './child.js';
import { GET_VARIABLE_PATH, makeResponse } from './payload.js';

serveChild(async () => {
  const server = new grpc.Server();
  const definition: grpc.ServiceDefinition = {
    getVariable: {
      path: GET_VARIABLE_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: GetVariableRequest) => Buffer.from(toBinary(GetVariableRequestSchema, m)),
      requestDeserialize: (b: Buffer) => fromBinary(GetVariableRequestSchema, b),
      responseSerialize: (m: GetVariableResponse) => Buffer.from(toBinary(GetVariableResponseSchema, m)),
      responseDeserialize: (b: Buffer) => fromBinary(GetVariableResponseSchema, b),
    },
  };
  server.addService(definition, {
    getVariable: (
      call: grpc.ServerUnaryCall<GetVariableRequest, GetVariableResponse>,
      callback: grpc.sendUnaryData<GetVariableResponse>,
    ) => callback(null, makeResponse(call.request.identifier)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    port,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
});
