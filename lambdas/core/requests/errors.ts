export type RequestErrorCode =
  | 'invalid_exception'
  | 'exception_not_needed'
  | 'exception_not_allowed'
  | 'consumer_not_eligible'
  | 'out_of_policy'
  | 'request_pending'
  | 'operator_unknown'
  | 'too_few_reviewers';

const STATUS: Record<RequestErrorCode, number> = {
  invalid_exception: 400,
  exception_not_needed: 409,
  exception_not_allowed: 403,
  consumer_not_eligible: 409,
  out_of_policy: 409,
  request_pending: 409,
  operator_unknown: 403,
  too_few_reviewers: 409,
};

/** An exception or reinstatement request refused before anything was stored; rendered as RFC 9457 problem JSON. */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly code: RequestErrorCode;
  readonly status: number;

  constructor(code: RequestErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}
