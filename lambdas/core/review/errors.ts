export type ReviewErrorCode =
  'link_invalid' | 'link_expired' | 'already_decided' | 'not_eligible' | 'csrf_failed' | 'comment_required' | 'no_eligible_reviewer';

const STATUS: Record<ReviewErrorCode, number> = {
  link_invalid: 403,
  link_expired: 410,
  already_decided: 409,
  not_eligible: 403,
  csrf_failed: 403,
  comment_required: 400,
  no_eligible_reviewer: 409,
};

/** What a reviewer can do about each refusal, unless the refusal knows better. */
const NEXT: Record<ReviewErrorCode, string> = {
  link_invalid:
    'Open the link exactly as it arrived in your review email (some mail programs break long links). If it still fails, ask the API security team for a new review email.',
  link_expired: 'Nothing more is needed from you. If nobody decided in time, the request expired with the review period; the requester may submit it again.',
  already_decided: 'Nothing more is needed from you.',
  not_eligible: 'Nothing more is needed from you: another reviewer decides this request.',
  csrf_failed: 'Open the link from your review email again and decide on that page.',
  comment_required: 'Go back, write your reason in the box above the Deny button, and submit again.',
  no_eligible_reviewer: 'Ask the API security team to add reviewers to the group for this risk.',
};

/** A refused review action; rendered as an HTML page for people (the review routes), never a 5xx. */
export class ReviewError extends Error {
  override readonly name = 'ReviewError';
  readonly code: ReviewErrorCode;
  readonly status: number;
  /** What the person should do now, in one or two sentences. */
  readonly next: string;

  constructor(code: ReviewErrorCode, message: string, options?: { cause?: unknown; next?: string }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
    this.next = options?.next ?? NEXT[code];
  }
}
