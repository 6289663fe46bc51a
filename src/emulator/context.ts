// Shared state handed to every front-end.
import type { Logger } from 'pino';
import type { EmulatorCredentials, KeyRing, TokenStore } from './auth.ts';
import type { Control } from './control.ts';
import type { OffsetClock } from './engine/clock.ts';
import type { StackEngine } from './engine/engine.ts';

export interface FrontEndOptions {
  /** heat: accept requests without X-Auth-Token (Heat's paste flavor "noauth"); default false */
  heatNoAuth?: boolean;
  /**
   * heat: cancel_update rolls back at once instead of waiting for the resource actions already running
   * (real Heat waits; default false)
   */
  heatCancelInterruptsInFlight?: boolean;
  /** rfs: answer a repeated Client-Request-Id of a mutating call with the first response (default false: RFS documents it only as a tracking id) */
  rfsDedupeClientRequestId?: boolean;
  /** ros: delay before a Safe CancelUpdateStack takes effect, in ms before the duration multiplier (default 1000) */
  rosSafeCancelDelayMs?: number;
  /** ros: how long a new change set stays CREATE_IN_PROGRESS before it is AVAILABLE, in ms (default 200) */
  rosChangeSetDelayMs?: number;
  /** rfs: how long a new execution plan stays CREATION_IN_PROGRESS before it is AVAILABLE, in ms (default 200) */
  rfsExecutionPlanDelayMs?: number;
}

export interface EmulatorContext {
  engine: StackEngine;
  control: Control;
  clock: OffsetClock;
  tokens: TokenStore;
  rfsKeys: KeyRing;
  rosKeys: KeyRing;
  credentials: EmulatorCredentials;
  options: FrontEndOptions;
  logger?: Logger;
}
