import { GatehouseError } from '../errors.js';

export type ReviewErrorCode =
  'link_invalid' | 'link_expired' | 'already_decided' | 'not_eligible' | 'csrf_failed' | 'comment_required' | 'no_eligible_reviewer';

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
export class ReviewError extends GatehouseError<ReviewErrorCode> {
  override readonly name = 'ReviewError';
  /** What the person should do now, in one or two sentences. */
  readonly next: string;

  constructor(code: ReviewErrorCode, message: string, options?: { cause?: unknown; next?: string }) {
    super(code, message, options);
    this.next = options?.next ?? NEXT[code];
  }
}
