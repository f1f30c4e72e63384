import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ConsumerChange } from '../../../core/ports/consumers.js';
import type { ReviewStore } from '../../../core/ports/reviews.js';
import type { RegistryItem } from '../../../core/registry/errors.js';
import type { Review } from '../../../core/review/review.js';
import { keys } from '../table-schema.js';
import { changeRoles, consumerChangeItems } from './consumer-change.js';
import { type RegistryTable, send, strip, transact, type TransactItem } from './table.js';

async function createReview(t: RegistryTable, review: Review, change: ConsumerChange, supersedes?: string): Promise<void> {
  const put: TransactItem = {
    Put: { TableName: t.name, Item: { ...keys.review(review.reviewId), kind: 'review', ...review }, ConditionExpression: 'attribute_not_exists(pk)' },
  };
  const close: TransactItem[] = supersedes
    ? [
        {
          Update: {
            TableName: t.name,
            Key: keys.review(supersedes),
            UpdateExpression: 'SET #status = :status',
            ConditionExpression: 'attribute_exists(pk) AND #status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':status': 'superseded', ':open': 'open' },
          },
        },
      ]
    : [];
  await transact(t, [put, ...close, ...consumerChangeItems(t, change)], ['review', ...close.map((): RegistryItem => 'review'), ...changeRoles(change)]);
}

async function getReview(t: RegistryTable, reviewId: string): Promise<Review | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.review(reviewId), ConsistentRead: true })));
  return out.Item ? strip<Review>(out.Item) : undefined;
}

async function decideReview(
  t: RegistryTable,
  reviewId: string,
  decision: Pick<Review, 'status' | 'decidedBy' | 'decidedAt' | 'comment'>,
  change: ConsumerChange,
): Promise<void> {
  const update: TransactItem = {
    Update: {
      TableName: t.name,
      Key: keys.review(reviewId),
      UpdateExpression: 'SET #status = :status, decidedBy = :by, decidedAt = :at, #comment = :comment',
      ConditionExpression: 'attribute_exists(pk) AND #status = :open',
      ExpressionAttributeNames: { '#status': 'status', '#comment': 'comment' },
      ExpressionAttributeValues: {
        ':status': decision.status,
        ':by': decision.decidedBy,
        ':at': decision.decidedAt,
        ':comment': decision.comment ?? '',
        ':open': 'open',
      },
    },
  };
  await transact(t, [update, ...consumerChangeItems(t, change)], ['review', ...changeRoles(change)]);
}

async function renewReviewLinks(
  t: RegistryTable,
  reviewId: string,
  links: { readonly previous: Review['reviewers']; readonly reviewers: Review['reviewers'] },
  change: ConsumerChange,
): Promise<void> {
  // Each earlier link id, element by element: the links are replaced only if nobody replaced them since they were read.
  const previous = links.previous.map((r, i) => [`reviewers[${i}].linkId = :link${i}`, [`:link${i}`, r.linkId]] as const);
  const update: TransactItem = {
    Update: {
      TableName: t.name,
      Key: keys.review(reviewId),
      UpdateExpression: 'SET reviewers = :reviewers',
      ConditionExpression: ['attribute_exists(pk)', '#status = :open', 'size(reviewers) = :count', ...previous.map(([condition]) => condition)].join(' AND '),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':reviewers': links.reviewers,
        ':open': 'open',
        ':count': links.previous.length,
        ...Object.fromEntries(previous.map(([, value]) => value)),
      },
    },
  };
  await transact(t, [update, ...consumerChangeItems(t, change)], ['review', ...changeRoles(change)]);
}

async function markReviewDelivered(t: RegistryTable, reviewId: string, at: Date): Promise<void> {
  await send(() =>
    t.db.send(
      new UpdateCommand({
        TableName: t.name,
        Key: keys.review(reviewId),
        UpdateExpression: 'SET deliveredAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    ),
  );
}

/**
 * Review rounds on the registry table. Opening and deciding a round also write the consumer's change and audit event:
 * DynamoDB transactions span items, not adapters, and a round must never be recorded without the consumer change that
 * goes with it, so this adapter owns those transactions (with the consumer items from consumer-change.ts).
 */
export function dynamoReviews(t: RegistryTable): ReviewStore {
  return {
    createReview: createReview.bind(undefined, t),
    getReview: getReview.bind(undefined, t),
    decideReview: decideReview.bind(undefined, t),
    renewReviewLinks: renewReviewLinks.bind(undefined, t),
    markReviewDelivered: markReviewDelivered.bind(undefined, t),
  };
}
