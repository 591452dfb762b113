/**
 * gRPC client of a CRI runtime (containerd, CRI-O) on a unix socket: one promise-returning method
 * per RPC of `runtime.v1` RuntimeService and ImageService, over one channel.
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Metadata, credentials, status, type CallOptions, type ChannelOptions, type ClientUnaryCall, type MethodDefinition, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync, type Options as ProtoLoaderOptions } from '@grpc/proto-loader';
import type * as api from './api-types.js';

/** Location of the CRI proto; `src/runtime/cri/` (tsx) and `dist/runtime/cri/` (tsc) both sit three levels below the repo root. */
export const CRI_PROTO_PATH = fileURLToPath(new URL('../../../proto/cri/runtime-v1.proto', import.meta.url));

/** proto-loader options the message shapes of `api-types.ts` are written for. */
export const CRI_PROTO_LOADER_OPTIONS: ProtoLoaderOptions = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** The kubelet's default `--runtime-request-timeout`. */
export const DEFAULT_CRI_TIMEOUT_MS = 2 * 60_000;

/** Same limit as the kubelet's CRI client, so large List responses of a busy node still fit. */
const MAX_RECEIVE_MESSAGE_BYTES = 16 * 1024 * 1024;

/** The two CRI services as gRPC service definitions, for a client or for a test server. */
export interface CriServices {
  runtime: ServiceDefinition;
  image: ServiceDefinition;
}

let services: CriServices | undefined;

/** Loads the CRI proto on first use and returns its services; later calls return the same objects. */
export function loadCriServices(): CriServices {
  if (services) return services;
  let pkg: ReturnType<typeof loadSync>;
  try {
    pkg = loadSync(CRI_PROTO_PATH, CRI_PROTO_LOADER_OPTIONS);
  } catch (err) {
    throw new Error(`cannot load the CRI proto ${CRI_PROTO_PATH} (is proto/ shipped next to dist/?): ${(err as Error).message}`, { cause: err });
  }
  const service = (name: string): ServiceDefinition => {
    const def = pkg[`runtime.v1.${name}`];
    // Message and enum definitions carry `format`; services are plain maps of methods.
    if (!def || 'format' in def) throw new Error(`CRI proto ${CRI_PROTO_PATH} has no service runtime.v1.${name}`);
    return def as ServiceDefinition;
  };
  services = { runtime: service('RuntimeService'), image: service('ImageService') };
  return services;
}

/** A CRI endpoint resolved to a socket: its path and the gRPC target for it. */
export interface CriEndpoint {
  socketPath: string;
  target: string;
}

/**
 * Resolves a CRI endpoint the way the kubelet accepts it on Linux: `unix:///abs/path` (or
 * `unix:/abs/path`), or a bare absolute path, which the kubelet still takes as a unix socket.
 * Throws for any other scheme (`tcp://`, `npipe://`) and for relative paths.
 */
export function parseCriEndpoint(endpoint: string): CriEndpoint {
  const raw = endpoint.trim();
  let socketPath: string;
  if (raw.startsWith('unix://')) socketPath = raw.slice('unix://'.length);
  else if (raw.startsWith('unix:')) socketPath = raw.slice('unix:'.length);
  else if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    throw new Error(`CRI endpoint "${endpoint}": only unix sockets are supported (unix:///path/to/runtime.sock)`);
  } else socketPath = raw;
  if (!socketPath.startsWith('/')) {
    throw new Error(`CRI endpoint "${endpoint}": needs an absolute socket path (unix:///path/to/runtime.sock)`);
  }
  socketPath = path.posix.normalize(socketPath);
  return { socketPath, target: `unix://${socketPath}` };
}

/** Options of {@link createCriClient}. */
export interface CriClientOptions {
  /** Deadline of an ordinary call, like the kubelet's `--runtime-request-timeout`. Default 2 min. */
  timeoutMs?: number;
}

/** Options of one call. */
export interface CriCallOptions {
  /** Replaces the call's usual deadline; 0 or Infinity means none. */
  timeoutMs?: number;
  /** Cancels the call; it then rejects with a CANCELLED {@link CriError}. */
  signal?: AbortSignal;
}

/** Rejection of a CRI call: the message reads `CRI <Rpc>: <code> <NAME>: <details>`. */
export class CriError extends Error {
  override readonly name = 'CriError';
  /** gRPC status code (`status.NOT_FOUND` is 5, `status.UNAVAILABLE` is 14). */
  readonly code: number;
  /** The RPC, as named in the proto (`RunPodSandbox`). */
  readonly rpc: string;
  /** The runtime's own error text, without the status prefix. */
  readonly details: string;

  constructor(rpc: string, err: Partial<ServiceError>) {
    super(`CRI ${rpc}: ${err.message ?? String(err)}`, { cause: err });
    this.rpc = rpc;
    this.code = typeof err.code === 'number' ? err.code : status.UNKNOWN;
    this.details = err.details ?? err.message ?? '';
  }
}

/**
 * A connection to a CRI runtime. Each method sends one RPC and resolves with its response, or
 * rejects with a {@link CriError}.
 */
export interface CriClient {
  /** The endpoint this client talks to. */
  readonly endpoint: CriEndpoint;
  version(req?: api.VersionRequest, call?: CriCallOptions): Promise<api.VersionResponse>;
  /** Deadline twice the usual one, as the kubelet gives sandbox creation (image pull, CNI). */
  runPodSandbox(req: api.RunPodSandboxRequest, call?: CriCallOptions): Promise<api.RunPodSandboxResponse>;
  stopPodSandbox(req: api.StopPodSandboxRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  removePodSandbox(req: api.RemovePodSandboxRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  podSandboxStatus(req: api.PodSandboxStatusRequest, call?: CriCallOptions): Promise<api.PodSandboxStatusResponse>;
  listPodSandbox(req?: api.ListPodSandboxRequest, call?: CriCallOptions): Promise<api.ListPodSandboxResponse>;
  createContainer(req: api.CreateContainerRequest, call?: CriCallOptions): Promise<api.CreateContainerResponse>;
  startContainer(req: api.StartContainerRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  /** Deadline: the usual one plus the grace period `req.timeout`, as the kubelet does. */
  stopContainer(req: api.StopContainerRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  removeContainer(req: api.RemoveContainerRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  listContainers(req?: api.ListContainersRequest, call?: CriCallOptions): Promise<api.ListContainersResponse>;
  containerStatus(req: api.ContainerStatusRequest, call?: CriCallOptions): Promise<api.ContainerStatusResponse>;
  containerStats(req: api.ContainerStatsRequest, call?: CriCallOptions): Promise<api.ContainerStatsResponse>;
  reopenContainerLog(req: api.ReopenContainerLogRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  /** Deadline: the usual one plus `req.timeout` seconds; none when `req.timeout` is 0, as in the kubelet. */
  execSync(req: api.ExecSyncRequest, call?: CriCallOptions): Promise<api.ExecSyncResponse>;
  status(req?: api.StatusRequest, call?: CriCallOptions): Promise<api.StatusResponse>;
  listImages(req?: api.ListImagesRequest, call?: CriCallOptions): Promise<api.ListImagesResponse>;
  /** Resolves with `image: null` when the image is absent. */
  imageStatus(req: api.ImageStatusRequest, call?: CriCallOptions): Promise<api.ImageStatusResponse>;
  /** No deadline, as in the kubelet: a large image may take long; cancel with `call.signal`. */
  pullImage(req: api.PullImageRequest, call?: CriCallOptions): Promise<api.PullImageResponse>;
  removeImage(req: api.RemoveImageRequest, call?: CriCallOptions): Promise<api.EmptyResponse>;
  imageFsInfo(req?: api.EmptyRequest, call?: CriCallOptions): Promise<api.ImageFsInfoResponse>;
  /** Closes the channel; calls made afterwards reject. */
  close(): void;
}

/**
 * Creates a client of the CRI runtime at `endpoint` (`unix:///run/containerd/containerd.sock` or
 * a bare absolute path). Connects lazily, on the first call; loads the proto on first use.
 */
export function createCriClient(endpoint: string, opts: CriClientOptions = {}): CriClient {
  const ep = parseCriEndpoint(endpoint);
  const base = opts.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS;
  if (!(base > 0)) throw new Error(`CRI client: timeoutMs must be positive, got ${base}`);
  const { runtime, image } = loadCriServices();
  const channelOptions: ChannelOptions = { 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES };
  // One generic client serves both services: the method paths carry the service name, so
  // RuntimeService and ImageService calls share a single channel and connection.
  const client = new Client(ep.target, credentials.createInsecure(), channelOptions);

  const call = <Req, Res>(def: ServiceDefinition, rpc: string, req: Req, timeoutMs: number, opt: CriCallOptions = {}): Promise<Res> => {
    const method = def[rpc] as MethodDefinition<Req, Res> | undefined;
    if (!method) return Promise.reject(new Error(`CRI ${rpc}: not in the proto`));
    const ms = opt.timeoutMs ?? timeoutMs;
    const options: CallOptions = ms > 0 && Number.isFinite(ms) ? { deadline: Date.now() + ms } : {};
    return new Promise<Res>((resolve, reject) => {
      const { signal } = opt;
      if (signal?.aborted) {
        reject(new CriError(rpc, { code: status.CANCELLED, details: 'aborted before the call', message: `${status.CANCELLED} CANCELLED: aborted before the call` }));
        return;
      }
      let pending: ClientUnaryCall;
      const onAbort = () => pending.cancel();
      try {
        pending = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, req, new Metadata(), options, (err, res) => {
          signal?.removeEventListener('abort', onAbort);
          if (err) reject(new CriError(rpc, err));
          else resolve(res as Res);
        });
      } catch (err) {
        // A closed channel, or a request that does not serialize, throws instead of calling back.
        reject(new CriError(rpc, err as Error));
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  };
  const seconds = (v: api.Int64Like | undefined): number => Number(v ?? 0) * 1000;

  return {
    endpoint: ep,
    version: (req = {}, o) => call(runtime, 'Version', req, base, o),
    runPodSandbox: (req, o) => call(runtime, 'RunPodSandbox', req, 2 * base, o),
    stopPodSandbox: (req, o) => call(runtime, 'StopPodSandbox', req, base, o),
    removePodSandbox: (req, o) => call(runtime, 'RemovePodSandbox', req, base, o),
    podSandboxStatus: (req, o) => call(runtime, 'PodSandboxStatus', req, base, o),
    listPodSandbox: (req = {}, o) => call(runtime, 'ListPodSandbox', req, base, o),
    createContainer: (req, o) => call(runtime, 'CreateContainer', req, base, o),
    startContainer: (req, o) => call(runtime, 'StartContainer', req, base, o),
    stopContainer: (req, o) => call(runtime, 'StopContainer', req, base + seconds(req.timeout), o),
    removeContainer: (req, o) => call(runtime, 'RemoveContainer', req, base, o),
    listContainers: (req = {}, o) => call(runtime, 'ListContainers', req, base, o),
    containerStatus: (req, o) => call(runtime, 'ContainerStatus', req, base, o),
    containerStats: (req, o) => call(runtime, 'ContainerStats', req, base, o),
    reopenContainerLog: (req, o) => call(runtime, 'ReopenContainerLog', req, base, o),
    execSync: (req, o) => call(runtime, 'ExecSync', req, seconds(req.timeout) > 0 ? base + seconds(req.timeout) : Infinity, o),
    status: (req = {}, o) => call(runtime, 'Status', req, base, o),
    listImages: (req = {}, o) => call(image, 'ListImages', req, base, o),
    imageStatus: (req, o) => call(image, 'ImageStatus', req, base, o),
    pullImage: (req, o) => call(image, 'PullImage', req, Infinity, o),
    removeImage: (req, o) => call(image, 'RemoveImage', req, base, o),
    imageFsInfo: (req = {}, o) => call(image, 'ImageFsInfo', req, base, o),
    close: () => client.close(),
  };
}

/** The gRPC status code of an error, looking through `cause`s; undefined when there is none. */
function grpcError(err: unknown): { code: number; details: string } | undefined {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, details, message } = e as { code?: unknown; details?: unknown; message?: unknown };
    if (typeof code === 'number') return { code, details: String(details ?? message ?? '') };
  }
  return undefined;
}

/**
 * Whether a CRI call failed because the object does not exist: gRPC NOT_FOUND, or UNKNOWN with
 * "not found" in the details, which is how containerd 1.6 answers on some paths.
 */
export function isNotFound(err: unknown): boolean {
  const g = grpcError(err);
  if (!g) return false;
  return g.code === status.NOT_FOUND || (g.code === status.UNKNOWN && /not found/i.test(g.details));
}

/**
 * Whether a CRI call failed because the runtime could not be reached: gRPC UNAVAILABLE, or a
 * connection refused or a missing socket in the error or its causes.
 */
export function isUnavailable(err: unknown): boolean {
  const g = grpcError(err);
  // With a gRPC status, trust it: a runtime's own error text may well mention ENOENT.
  if (g) return g.code === status.UNAVAILABLE;
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'ECONNREFUSED' || code === 'ENOENT') return true;
    if (typeof message === 'string' && /ECONNREFUSED|ENOENT/.test(message)) return true;
  }
  return false;
}
