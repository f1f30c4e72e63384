import { GatehouseError } from '../errors.js';

/**
 * The review workflow asked for another approval of a request that has already ended (its requester withdrew it, its
 * consumer was revoked, or the request was closed): nothing is left to review. The review state machine catches
 * `Gatehouse.RequestEnded` and ends the execution as succeeded (statemachines/onboarding.asl.json), instead of retrying
 * and recording a failure that did not happen.
 */
export class RequestEnded extends GatehouseError<'request_ended'> {
  override readonly name = 'Gatehouse.RequestEnded';

  constructor(message: string, options?: { cause?: unknown }) {
    super('request_ended', message, options);
  }
}
