import type { Review } from '../review/review.js';
import type { ConsumerChange } from './consumers.js';

/**
 * Review rounds. A round is opened and decided together with the consumer's change and audit event, in one transaction,
 * so a review never records a decision its consumer does not show.
 */
export interface ReviewStore {
  /**
   * Stores a new review round with the consumer's change and audit event, in one transaction; `supersedes` names a round
   * still open for the same approval (a retried workflow task), which is closed as `superseded` in the same transaction.
   */
  createReview(review: Review, change: ConsumerChange, supersedes?: string): Promise<void>;
  getReview(reviewId: string): Promise<Review | undefined>;
  /**
   * Records a decision on an open review with the consumer's change and audit event, in one transaction;
   * RegistryError `condition_failed` (item `review`) when the review is no longer open.
   */
  decideReview(reviewId: string, decision: Pick<Review, 'status' | 'decidedBy' | 'decidedAt' | 'comment'>, change: ConsumerChange): Promise<void>;
  /**
   * Replaces the links of an open review (new `linkId`s for the same reviewers, so the old links stop verifying) with the
   * consumer's change and audit event, in one transaction; RegistryError `condition_failed` (item `review`) when the
   * review is no longer open or its links changed since `previous` was read.
   */
  renewReviewLinks(
    reviewId: string,
    links: { readonly previous: Review['reviewers']; readonly reviewers: Review['reviewers'] },
    change: ConsumerChange,
  ): Promise<void>;
  /** Marks a decided review as delivered to the workflow. */
  markReviewDelivered(reviewId: string, at: Date): Promise<void>;
}
