// gRPC server reflection (grpc.reflection.v1 and the older v1alpha that most
// tools still try first), so grpcurl, grpcui, Postman and `buf curl` discover
// the bridge's services without the .proto files. Answers come from the file
// descriptors that protobuf-es embeds in the generated code: the files of the
// served services and, transitively, every file they import.
import { toBinary } from '@bufbuild/protobuf';
import type { DescEnum, DescExtension, DescFile, DescMessage, DescService } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { Code } from '@connectrpc/connect';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { reflectionV1, reflectionV1alpha } from '@unified-bridge/proto';
import { abortable } from '@unified-bridge/types/internal';

/** A reflection request of either version (the two share field names and numbers). */
type ReflectionRequest = reflectionV1.ServerReflectionRequest | reflectionV1alpha.ServerReflectionRequest;

/** A reflection response of either version, as plain data. */
interface ReflectionAnswer {
  readonly validHost: string;
  readonly originalRequest: { readonly host: string; readonly messageRequest: RequestCase };
  readonly messageResponse:
    | { readonly case: 'fileDescriptorResponse'; readonly value: { readonly fileDescriptorProto: Uint8Array[] } }
    | {
        readonly case: 'allExtensionNumbersResponse';
        readonly value: { readonly baseTypeName: string; readonly extensionNumber: number[] };
      }
    | { readonly case: 'listServicesResponse'; readonly value: { readonly service: { readonly name: string }[] } }
    | { readonly case: 'errorResponse'; readonly value: { readonly errorCode: number; readonly errorMessage: string } };
}

type RequestCase =
  | {
      readonly case: 'fileByFilename' | 'fileContainingSymbol' | 'allExtensionNumbersOfType' | 'listServices';
      readonly value: string;
    }
  | {
      readonly case: 'fileContainingExtension';
      readonly value: { readonly containingType: string; readonly extensionNumber: number };
    }
  | { readonly case: undefined; readonly value?: undefined };

/** Longest name echoed back in an error message. */
const MAX_ECHOED_NAME = 200;

/**
 * The files, symbols and extensions reachable from a set of services: what
 * reflection can describe. Serialised descriptors are built on first use.
 */
export class DescriptorIndex {
  readonly #services: readonly string[];
  readonly #files = new Map<string, DescFile>();
  readonly #bytes = new Map<string, Uint8Array>();
  readonly #symbols = new Map<string, DescFile>();
  readonly #messages = new Set<string>();
  /** Extendee type name -> field number -> the file declaring the extension. */
  readonly #extensions = new Map<string, Map<number, DescFile>>();

  /** Indexes `services`, their files and everything those files import. */
  constructor(services: readonly DescService[]) {
    this.#services = [...new Set(services.map((s) => s.typeName))].sort();
    for (const s of services) this.#addFile(s.file);
  }

  /** The fully qualified names of the services, sorted. */
  get services(): readonly string[] {
    return this.#services;
  }

  /** The file of that name (e.g. `"unified_bridge/v1/tool.proto"`), if known. */
  file(name: string): DescFile | undefined {
    return this.#files.get(name);
  }

  /** The file declaring a message, enum, enum value, field, service, method or extension of that full name. */
  fileOfSymbol(name: string): DescFile | undefined {
    return this.#symbols.get(name);
  }

  /** The file declaring the extension of `extendee` with field number `number`. */
  fileOfExtension(extendee: string, number: number): DescFile | undefined {
    return this.#extensions.get(extendee)?.get(number);
  }

  /** The field numbers of the known extensions of a message type, or undefined for an unknown type. */
  extensionNumbers(extendee: string): number[] | undefined {
    if (!this.#messages.has(extendee)) return undefined;
    return [...(this.#extensions.get(extendee)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * The serialised FileDescriptorProto of `file`, followed by those of its
   * transitive imports that are not in `sent` yet; every file returned is
   * added to `sent` (one stream never receives a file twice, except the one
   * it asked for).
   */
  withDependencies(file: DescFile, sent: Set<string>): Uint8Array[] {
    const out: Uint8Array[] = [];
    const visit = (f: DescFile, requested: boolean) => {
      const name = f.proto.name;
      if (!requested && sent.has(name)) return;
      sent.add(name);
      out.push(this.#serialised(f));
      for (const dep of f.dependencies) visit(dep, false);
    };
    visit(file, true);
    return out;
  }

  #serialised(file: DescFile): Uint8Array {
    const name = file.proto.name;
    let bytes = this.#bytes.get(name);
    if (bytes === undefined) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.#bytes.set(name, bytes);
    }
    return bytes;
  }

  #addFile(file: DescFile): void {
    if (this.#files.has(file.proto.name)) return;
    this.#files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.#addFile(dep);
    const pkg = file.proto.package;
    for (const e of file.enums) this.#addEnum(file, e, pkg);
    for (const m of file.messages) this.#addMessage(file, m);
    for (const x of file.extensions) this.#addExtension(file, x);
    for (const s of file.services) {
      this.#symbols.set(s.typeName, file);
      for (const m of s.methods) this.#symbols.set(`${s.typeName}.${m.name}`, file);
    }
  }

  #addMessage(file: DescFile, message: DescMessage): void {
    this.#symbols.set(message.typeName, file);
    this.#messages.add(message.typeName);
    for (const f of message.fields) this.#symbols.set(`${message.typeName}.${f.name}`, file);
    for (const o of message.oneofs) this.#symbols.set(`${message.typeName}.${o.name}`, file);
    for (const e of message.nestedEnums) this.#addEnum(file, e, message.typeName);
    for (const m of message.nestedMessages) this.#addMessage(file, m);
    for (const x of message.nestedExtensions) this.#addExtension(file, x);
  }

  /** Enum values are scoped like their enum's siblings (`pkg.VALUE`, `pkg.Message.VALUE`). */
  #addEnum(file: DescFile, e: DescEnum, scope: string): void {
    this.#symbols.set(e.typeName, file);
    for (const v of e.values) this.#symbols.set(scope === '' ? v.name : `${scope}.${v.name}`, file);
  }

  #addExtension(file: DescFile, x: DescExtension): void {
    this.#symbols.set(x.typeName, file);
    let byNumber = this.#extensions.get(x.extendee.typeName);
    if (byNumber === undefined) this.#extensions.set(x.extendee.typeName, (byNumber = new Map()));
    byNumber.set(x.number, file);
  }
}

/** Answers one reflection request; `sent` holds the files this stream already received. */
export function answerReflection(index: DescriptorIndex, req: ReflectionRequest, sent: Set<string>): ReflectionAnswer {
  const r = req.messageRequest;
  const originalRequest = {
    host: req.host,
    messageRequest:
      r.case === 'fileContainingExtension'
        ? { case: r.case, value: { containingType: r.value.containingType, extensionNumber: r.value.extensionNumber } }
        : r,
  };
  const answer = (messageResponse: ReflectionAnswer['messageResponse']): ReflectionAnswer => ({
    validHost: req.host,
    originalRequest,
    messageResponse,
  });
  const files = (file: DescFile | undefined, what: string, name: string) =>
    file === undefined
      ? answer(notFound(`${what} not found: ${echo(name)}`))
      : answer({ case: 'fileDescriptorResponse', value: { fileDescriptorProto: index.withDependencies(file, sent) } });
  switch (r.case) {
    case 'listServices':
      return answer({ case: 'listServicesResponse', value: { service: index.services.map((name) => ({ name })) } });
    case 'fileByFilename':
      return files(index.file(r.value), 'file', r.value);
    case 'fileContainingSymbol':
      return files(index.fileOfSymbol(r.value), 'symbol', r.value);
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = r.value;
      const file = index.fileOfExtension(containingType, extensionNumber);
      return files(file, 'extension', `${containingType} ${extensionNumber}`);
    }
    case 'allExtensionNumbersOfType': {
      const numbers = index.extensionNumbers(r.value);
      if (numbers === undefined) return answer(notFound(`message type not found: ${echo(r.value)}`));
      return answer({
        case: 'allExtensionNumbersResponse',
        value: { baseTypeName: r.value, extensionNumber: numbers },
      });
    }
    default:
      return answer({
        case: 'errorResponse',
        value: { errorCode: Code.InvalidArgument, errorMessage: 'the request sets none of the message_request fields' },
      });
  }
}

function notFound(errorMessage: string): ReflectionAnswer['messageResponse'] {
  return { case: 'errorResponse', value: { errorCode: Code.NotFound, errorMessage } };
}

function echo(name: string): string {
  return JSON.stringify(name.length > MAX_ECHOED_NAME ? `${name.slice(0, MAX_ECHOED_NAME)}...` : name);
}

/** The reflection services of both versions, describing `services` and themselves. */
export interface ReflectionServices {
  readonly v1: ServiceImpl<typeof reflectionV1.ServerReflection>;
  readonly v1alpha: ServiceImpl<typeof reflectionV1alpha.ServerReflection>;
}

/**
 * Creates grpc.reflection.v1 and v1alpha over `services` (the reflection
 * services are added to the list). Each stream answers its requests in
 * order; `streamsSignal` ends open streams (server shutdown) with its reason.
 */
export function createReflectionServices(
  services: readonly DescService[],
  streamsSignal: AbortSignal,
): ReflectionServices {
  const index = new DescriptorIndex([...services, reflectionV1.ServerReflection, reflectionV1alpha.ServerReflection]);
  async function* serve(requests: AsyncIterable<ReflectionRequest>, ctx: HandlerContext) {
    const signal = AbortSignal.any([ctx.signal, streamsSignal]);
    const sent = new Set<string>();
    const it = requests[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<ReflectionRequest>;
      try {
        next = await abortable(it.next(), signal);
      } catch (err) {
        if (ctx.signal.aborted) return; // the client went away or the deadline passed
        throw err; // shutdown: UNAVAILABLE "server shutting down"
      }
      if (next.done === true) return;
      yield answerReflection(index, next.value, sent);
    }
  }
  return {
    v1: { serverReflectionInfo: serve },
    v1alpha: { serverReflectionInfo: serve },
  };
}
