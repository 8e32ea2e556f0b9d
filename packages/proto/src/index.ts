// Generated code of the unified-bridge v1 wire protocol. Every export below is
// re-exported from src/gen (protoc-gen-es); nothing is hand-written here.

export * from './gen/unified_bridge/v1/value_pb.js';
export * from './gen/unified_bridge/v1/error_pb.js';
export * from './gen/unified_bridge/v1/session_pb.js';
export * from './gen/unified_bridge/v1/variable_pb.js';
export * from './gen/unified_bridge/v1/tool_pb.js';
export * from './gen/grpc/health/v1/health_pb.js';
// The two versions of gRPC server reflection declare the same names, so each
// is a namespace: `reflectionV1.ServerReflection`, `reflectionV1alpha.ServerReflection`.
export * as reflectionV1 from './gen/grpc/reflection/v1/reflection_pb.js';
export * as reflectionV1alpha from './gen/grpc/reflection/v1alpha/reflection_pb.js';
