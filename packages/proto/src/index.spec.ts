import { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import * as proto from '@unified-bridge/proto';

describe('@unified-bridge/proto', () => {
  it('should export every service of the v1 protocol, grpc.health.v1 and both reflection versions', () => {
    expect(proto.SessionService.typeName).toBe('unified_bridge.v1.SessionService');
    expect(proto.VariableService.typeName).toBe('unified_bridge.v1.VariableService');
    expect(proto.ToolService.typeName).toBe('unified_bridge.v1.ToolService');
    expect(proto.ToolWorkerService.typeName).toBe('unified_bridge.v1.ToolWorkerService');
    expect(proto.Health.typeName).toBe('grpc.health.v1.Health');
    expect(proto.reflectionV1.ServerReflection.typeName).toBe('grpc.reflection.v1.ServerReflection');
    expect(proto.reflectionV1alpha.ServerReflection.typeName).toBe('grpc.reflection.v1alpha.ServerReflection');
    expect(proto.reflectionV1.ServerReflectionRequestSchema.typeName).toBe(
      'grpc.reflection.v1.ServerReflectionRequest',
    );
  });

  it('should round-trip a tensor value through the binary format', () => {
    const data = new Uint8Array(new Float32Array([1.5, -2, Number.NaN]).buffer);
    const value = create(proto.ValueSchema, {
      kind: { case: 'tensorValue', value: { dtype: proto.Dtype.FLOAT32, shape: [3], data } },
    });
    const back = fromBinary(proto.ValueSchema, toBinary(proto.ValueSchema, value));
    expect(back.kind.case).toBe('tensorValue');
    expect(back.kind.value).toMatchObject({ dtype: proto.Dtype.FLOAT32, shape: [3] });
  });

  it('should encode 64-bit integers exactly in JSON', () => {
    const value = create(proto.ValueSchema, { kind: { case: 'intValue', value: 9223372036854775807n } });
    expect(toJson(proto.ValueSchema, value)).toEqual({ intValue: '9223372036854775807' });
  });
});
