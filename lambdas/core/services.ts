import type { GatehouseConfig } from './config.js';
import type { Metrics } from './metrics.js';
import type { LoadedPolicy } from './policy/load.js';
import type { ClientSecretStore, Clock, Mailer, Vault, Workflow } from './ports.js';
import type { AttentionIndex } from './ports/attention.js';
import type { ConsumerStore } from './ports/consumers.js';
import type { MarkerStore } from './ports/markers.js';
import type { PolicyRolloutStore } from './ports/policy-rollout.js';
import type { RequestStore } from './ports/requests.js';
import type { ReviewStore } from './ports/reviews.js';
import type { RevocationList } from './revocation/revocation-list.js';

/** Structured logger (Powertools Logger satisfies it); never given secrets or tokens. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** The ports over the registry table, one per aggregate (one DynamoDB table holds them all, in both modes). */
export interface TableStores {
  readonly consumers: ConsumerStore;
  readonly reviews: ReviewStore;
  readonly requests: RequestStore;
  readonly markers: MarkerStore;
  readonly attention: AttentionIndex;
  readonly rollouts: PolicyRolloutStore;
  readonly revocations: RevocationList;
}

/** The name of an operation of one of the table's ports (`getConsumer`, `claimOnce`, …), as a function spec lists it. */
export type StoreOperation = { [S in keyof TableStores]: keyof TableStores[S] }[keyof TableStores];

/**
 * The table's ports narrowed to the operations `Op`: a port none of whose operations is named is absent. A use case
 * states what it calls with it (`Uses<'getConsumer' | 'claimOnce'>`), so a function given fewer operations does not compile.
 */
export type Uses<Op extends StoreOperation> = {
  readonly [S in keyof TableStores as [Op & keyof TableStores[S]] extends [never] ? never : S]: Pick<TableStores[S], Op & keyof TableStores[S]>;
};

/** Everything a handler may be given, assembled once per process: AWS adapters in Lambda, local adapters in local mode. */
export interface Services extends TableStores {
  readonly vault: Vault;
  readonly clientSecrets: ClientSecretStore;
  readonly workflow: Workflow;
  readonly mailer: Mailer;
  /** Sends emails that carry a signed link straight to the mail service, never through a workflow that records them. */
  readonly linkMailer: Mailer;
  readonly clock: Clock;
  readonly policy: LoadedPolicy;
  readonly config: GatehouseConfig;
  readonly log: Log;
  /** Counts and latencies, buffered per invocation (never a client id or anything secret as a dimension). */
  readonly metrics: Metrics;
}

/** What every function is given whatever its capabilities. */
export type BaseServices = Pick<Services, 'clock' | 'policy' | 'config' | 'log' | 'metrics'>;

/** The ports a function holds only with a capability for them (lambdas/contracts/functions.ts PORT_CAPABILITIES). */
export type CapabilityPort = 'vault' | 'clientSecrets' | 'workflow' | 'mailer' | 'linkMailer';

/** What a use case needs: the base services, the table operations `Op` and the capability ports `P`. */
export type Needs<Op extends StoreOperation = never, P extends CapabilityPort = never> = BaseServices & Pick<Services, P> & Uses<Op>;
