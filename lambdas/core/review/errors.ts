export type ReviewErrorCode = 'link_invalid' | 'link_expired' | 'already_decided' | 'not_eligible' | 'csrf_failed' | 'comment_required' | 'no_eligible_reviewer';

const STATUS: Record<ReviewErrorCode, number> = {
  link_invalid: 403,
  link_expired: 410,
  already_decided: 409,
  not_eligible: 403,
  csrf_failed: 403,
  comment_required: 400,
  no_eligible_reviewer: 409,
};

/** A refused review action; rendered as an HTML page for people (the review routes), never a 5xx. */
export class ReviewError extends Error {
  override readonly name = 'ReviewError';
  readonly code: ReviewErrorCode;
  readonly status: number;

  constructor(code: ReviewErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}
