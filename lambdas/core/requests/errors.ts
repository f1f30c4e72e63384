import { GatehouseError } from '../errors.js';

export type RequestErrorCode =
  | 'invalid_exception'
  | 'exception_not_needed'
  | 'exception_not_allowed'
  | 'consumer_not_eligible'
  | 'out_of_policy'
  | 'request_pending'
  | 'operator_unknown'
  | 'too_few_reviewers';

/** An exception or reinstatement request refused before anything was stored; rendered as RFC 9457 problem JSON. */
export class RequestError extends GatehouseError<RequestErrorCode> {
  override readonly name = 'RequestError';
}
