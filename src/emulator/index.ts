// Provider emulator: Keystone + Heat, Huawei RFS, Alibaba ROS (RPC and legacy REST), Cloud Foundry v3 +
// UAA, all on one HTTP server, backed by one in-memory stack engine. No side effects at import.
import type { Logger } from 'pino';
import { defaultCredentials, KeyRing, TokenStore, type CredentialOverrides, type EmulatorCredentials } from './auth.ts';
import type { EmulatorContext, FrontEndOptions } from './context.ts';
import { Control, type RateLimitOptions } from './control.ts';
import { OffsetClock, RealClock, type Clock } from './engine/clock.ts';
import { StackEngine } from './engine/engine.ts';
import { CloudFoundryFrontEnd, UaaFrontEnd } from './frontends/cloudfoundry.ts';
import { HeatFrontEnd } from './frontends/heat.ts';
import { KeystoneFrontEnd } from './frontends/keystone.ts';
import { RfsFrontEnd } from './frontends/rfs.ts';
import { RosLegacyFrontEnd } from './frontends/ros-legacy.ts';
import { RosFrontEnd } from './frontends/ros.ts';
import { SERVICES, type ServiceName } from './http.ts';
import { EmulatorServer } from './server.ts';

export type { EmulatorCredentials, CredentialOverrides } from './auth.ts';
export type { FaultRule, RateLimitOptions, RateLimitConfig } from './control.ts';
export type { Control } from './control.ts';
export { FakeClock, OffsetClock, RealClock, type Clock } from './engine/clock.ts';
export { StackEngine, type StackRecord, type MutationCounts, type ProviderType } from './engine/engine.ts';
export { SERVICES, type ServiceName } from './http.ts';

export interface EmulatorOptions extends FrontEndOptions {
  host?: string;
  /** 0 (default) = ephemeral */
  port?: number;
  /** added to every request before it is handled */
  latencyMs?: number;
  /** multiplier applied to every operation duration (1 = template waits as written, 0.01 = 100x faster, 0 = next tick) */
  operationSpeed?: number;
  /** fixed extra duration of every operation, in ms before the multiplier (default 0) */
  baseOperationMs?: number;
  rateLimit?: RateLimitOptions;
  credentials?: CredentialOverrides;
  logger?: Logger;
  clock?: Clock;
  /** ms added to every time the provider reports or checks (negative: its clock is behind); see PUT /_emulator/clock-offset */
  clockOffsetMs?: number;
  /** also serve each service alone on its own port at the real service's root paths (0 = ephemeral ports) */
  servicePorts?: boolean | Partial<Record<ServiceName, number>>;
}

export interface EmulatorEndpoints {
  /** Keystone auth URL (ends with /v3) */
  keystone: string;
  /** Heat base URL including the project id, as in the catalog */
  heat: string;
  /** RFS base URL; clients append /v1/{project_id}/stacks */
  rfs: string;
  /** ROS RPC endpoint (POST/GET to this URL with Action=...) */
  ros: string;
  /** ROS 2015-09-01 REST base URL; clients append /stacks */
  rosLegacy: string;
  /** Cloud Foundry API base URL; clients append /v3/... */
  cloudFoundry: string;
  /** UAA base URL; clients append /oauth/token */
  uaa: string;
}

/** With servicePorts: each service's base URL on its own port (the real service's paths below it). */
export type ServicePortEndpoints = EmulatorEndpoints;

export interface Emulator {
  readonly url: string;
  readonly endpoints: EmulatorEndpoints;
  /** set with the servicePorts option: the same services at the real root paths, one port each */
  readonly serviceEndpoints?: ServicePortEndpoints;
  readonly credentials: EmulatorCredentials;
  /** the stack engine (stacks, mutation counters, duration multiplier) */
  readonly engine: StackEngine;
  /** latency, rate limit, fault injection, request counters */
  readonly control: Control;
  readonly tokens: TokenStore;
  /** register another AK/SK accepted by the rfs or ros signature verifier */
  addAccessKey(provider: 'rfs' | 'ros', accessKeyId: string, secretAccessKey: string): void;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const baseClock = options.clock ?? new RealClock();
  const clock = new OffsetClock(baseClock, options.clockOffsetMs ?? 0);
  const credentials = defaultCredentials(options.credentials);
  const engine = new StackEngine({ clock, durationMultiplier: options.operationSpeed ?? 1, baseOperationMs: options.baseOperationMs ?? 0 });
  const control = new Control(clock, { ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}), ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) });
  const rfsKeys = new KeyRing();
  rfsKeys.add(credentials.rfs.accessKeyId, credentials.rfs.secretAccessKey);
  const rosKeys = new KeyRing();
  rosKeys.add(credentials.ros.accessKeyId, credentials.ros.secretAccessKey);
  const ctx: EmulatorContext = {
    engine,
    control,
    clock,
    tokens: new TokenStore(clock),
    rfsKeys,
    rosKeys,
    credentials,
    options: {
      ...(options.heatNoAuth !== undefined ? { heatNoAuth: options.heatNoAuth } : {}),
      ...(options.heatCancelInterruptsInFlight !== undefined ? { heatCancelInterruptsInFlight: options.heatCancelInterruptsInFlight } : {}),
      ...(options.rfsDedupeClientRequestId !== undefined ? { rfsDedupeClientRequestId: options.rfsDedupeClientRequestId } : {}),
      ...(options.rosSafeCancelDelayMs !== undefined ? { rosSafeCancelDelayMs: options.rosSafeCancelDelayMs } : {}),
    },
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const server = new EmulatorServer(ctx, [
    new KeystoneFrontEnd(ctx),
    new HeatFrontEnd(ctx),
    new RfsFrontEnd(ctx),
    new RosFrontEnd(ctx),
    new RosLegacyFrontEnd(ctx),
    new CloudFoundryFrontEnd(ctx),
    new UaaFrontEnd(ctx),
  ]);
  const host = options.host ?? '127.0.0.1';
  const addr = await server.listen(host, options.port ?? 0);
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
  const url = `http://${hostPart}:${addr.port}`;
  credentials.keystone.authUrl = `${url}/identity/v3`;
  const serviceEndpoints = options.servicePorts ? await listenServices(server, host, options.servicePorts, credentials) : undefined;
  options.logger?.info({ url }, 'provider emulator listening');
  return {
    url,
    endpoints: {
      keystone: `${url}/identity/v3`,
      heat: `${url}/heat/v1/${credentials.keystone.projectId}`,
      rfs: `${url}/rfs`,
      ros: `${url}/ros/`,
      rosLegacy: `${url}/ros-legacy`,
      cloudFoundry: `${url}/cf`,
      uaa: `${url}/uaa`,
    },
    ...(serviceEndpoints ? { serviceEndpoints } : {}),
    credentials,
    engine,
    control,
    tokens: ctx.tokens,
    addAccessKey(provider, ak, sk) {
      (provider === 'rfs' ? rfsKeys : rosKeys).add(ak, sk);
    },
    async close() {
      engine.shutdown();
      if (baseClock instanceof RealClock) baseClock.clearAll();
      await server.close();
    },
  };
}

async function listenServices(server: EmulatorServer, host: string, ports: true | Partial<Record<ServiceName, number>>, credentials: EmulatorCredentials): Promise<ServicePortEndpoints> {
  const base: Partial<Record<ServiceName, string>> = {};
  for (const svc of SERVICES) base[svc] = await server.listenService(svc, host, ports === true ? 0 : (ports[svc] ?? 0));
  const b = base as Record<ServiceName, string>;
  return {
    keystone: `${b.keystone}/v3`,
    heat: `${b.heat}/v1/${credentials.keystone.projectId}`,
    rfs: b.rfs,
    ros: `${b.ros}/`,
    rosLegacy: b.rosLegacy,
    cloudFoundry: b.cloudFoundry,
    uaa: b.uaa,
  };
}
