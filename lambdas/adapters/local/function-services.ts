import { FUNCTIONS, hasPort, storesFor, type FunctionName, type FunctionServices } from '../../contracts/functions.js';
import type { Mailer } from '../../core/ports.js';
import type { Services } from '../../core/services.js';

/**
 * What function `name`'s handler gets in local mode: what its Lambda entry gets from `awsServices`, read from the same
 * spec (lambdas/contracts/functions.ts): the ports of its capabilities and the table's ports with only the operations its
 * spec lists. Its mailer is the shared one with `mail:send`, and `notices` (the local consumer-notice workflow) with
 * `notice:send`.
 */
export function functionServices<N extends FunctionName>(name: N, services: Services, notices: Mailer): FunctionServices<N> {
  const spec = FUNCTIONS[name];
  const { clock, policy, config, log, metrics } = services;
  return {
    clock,
    policy,
    config,
    log,
    metrics,
    ...(hasPort(spec, 'vault') ? { vault: services.vault } : {}),
    ...(hasPort(spec, 'workflow') ? { workflow: services.workflow } : {}),
    ...(hasPort(spec, 'mailer') ? { mailer: spec.capabilities.includes('notice:send') ? notices : services.mailer } : {}),
    ...(hasPort(spec, 'clientSecrets') ? { clientSecrets: services.clientSecrets } : {}),
    ...storesFor(spec.registry ?? [], services),
  } as FunctionServices<N>;
}
