import type { GatehouseConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { LoadedPolicy } from './policy/load.js';
import type { ClientSecretStore, Clock, Mailer, Registry, Vault, Workflow } from './ports.js';

/** Structured logger (Powertools Logger satisfies it); never given secrets or tokens. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Everything a handler needs, assembled once per process: AWS adapters in Lambda, local adapters in local mode. */
export interface Services {
  readonly registry: Registry;
  readonly vault: Vault;
  readonly clientSecrets: ClientSecretStore;
  readonly workflow: Workflow;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly policy: LoadedPolicy;
  readonly config: GatehouseConfig;
  readonly log: Log;
  /** Counts and latencies, buffered per invocation (never a client id or anything secret as a dimension). */
  readonly metrics: Metrics;
}
