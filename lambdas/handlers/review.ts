import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ServiceError } from '../core/errors.js';
import { closedRoundError, decideReview, endedRequestError, openReview, periodEndedError, type ReviewView } from '../core/review/decide.js';
import { ReviewError } from '../core/review/errors.js';
import { reviewLinkKeysFor } from '../core/review/link-token.js';
import { reviewFacts } from '../core/review/facts.js';
import { dateTimeFromNow } from '../core/review/format.js';
import { escapeHtml, factsHtml, page, warningsHtml } from '../core/review/html.js';
import type { BaseServices, Needs } from '../core/services.js';
import { randomToken } from '../core/util/hash.js';
import { bodyText, header, mediaType } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { cookie, linkPage, sameSecret } from './http/link-page.js';
import { permanentServiceCause, reviewErrorStatus } from './http/to-response.js';

const CSRF_COOKIE = 'gh_csrf';

function reviewPage(view: ReviewView, services: BaseServices, token: string, csrf: string): string {
  const { review, consumer, request, link } = view;
  const now = services.clock.now();
  const facts = reviewFacts(consumer, services.policy, review, now, request);
  const hidden = `<input type="hidden" name="t" value="${escapeHtml(token)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
  return page(
    `Review: ${request ? `${request.type} for ` : ''}${consumer.clientName}`,
    `<p class="org">Verified organisation: <strong>${escapeHtml(facts.organisation ?? 'none on record')}</strong></p>
${warningsHtml(facts)}
<p>Reviewer <strong>${escapeHtml(link.reviewer)}</strong> — approval ${review.round} of ${review.approvalsRequired}. Decide by <strong>${escapeHtml(dateTimeFromNow(review.deadline, now))}</strong>.</p>
${factsHtml(facts)}
<h2>Your decision</h2>
<form method="post"><input type="hidden" name="decision" value="approve">${hidden}
<label>Comment (optional; ${review.round < review.approvalsRequired ? 'the next reviewer reads it' : 'kept in the audit trail'})<br><textarea name="comment" maxlength="2000"></textarea></label><br><button class="approve" type="submit">Approve</button></form>
<form method="post"><input type="hidden" name="decision" value="deny">${hidden}
<label>Reason (required; the requester is told it)<br><textarea name="comment" maxlength="2000" required></textarea></label><br><button class="deny" type="submit">Deny</button></form>
<p class="note">Opening this page changed nothing. Your decision is recorded with your address in the audit trail.</p>`,
  );
}

function errorPage(error: unknown, services: BaseServices, event: APIGatewayProxyEvent): APIGatewayProxyResult {
  if (error instanceof ReviewError) {
    // A refused decision is something operators must see (a broken page or an attack); the link token is never logged.
    if (event.httpMethod === 'POST') {
      services.log.warn('review decision refused', {
        reviewId: event.pathParameters?.['review_id'],
        code: error.code,
        origin: header(event, 'origin') ?? null,
      });
    }
    return linkPage(
      reviewErrorStatus(error),
      page(
        'Review not available',
        `<p class="refusal">${escapeHtml(error.message)}</p><p class="next"><strong>What to do next:</strong> ${escapeHtml(error.next)}</p>`,
      ),
    );
  }
  // A dependency that refused the call for good (permanentServiceCause) falls through to the 500 every handler gives.
  if (error instanceof ServiceError && error.code === 'dependency_unavailable' && !permanentServiceCause(error)) {
    return linkPage(503, page('Try again in a moment', `<p>${escapeHtml(error.message)}</p>`), { 'retry-after': String(error.retryAfterSeconds ?? 10) });
  }
  throw error;
}

/** GET /reviews/{review_id}?t=… shows a request (and never changes state); POST records the reviewer's decision. */
export function createReviewHandler(
  services: Needs<'getReview' | 'getConsumer' | 'getRequest' | 'decideReview' | 'markReviewDelivered', 'vault' | 'workflow'>,
): HttpLambda {
  const keys = reviewLinkKeysFor(services);
  const basePath = new URL(services.config.issuer).pathname.replace(/\/$/, '');
  const origin = new URL(services.config.issuer).origin;
  const secure = services.config.issuer.startsWith('https://');

  return httpHandler(services, async (event) => {
    const reviewId = event.pathParameters?.['review_id'] ?? '';
    try {
      if (event.httpMethod === 'GET') {
        const token = event.queryStringParameters?.['t'];
        if (!token) throw new ReviewError('link_invalid', 'This review link is incomplete.');
        const view = await openReview(services, keys, reviewId, token);
        if (view.review.status !== 'open') throw closedRoundError(view.review, view.link.reviewer);
        if (Date.parse(view.review.deadline) <= services.clock.now().getTime()) throw periodEndedError(view.review);
        const ended = endedRequestError(view);
        if (ended) throw ended;
        const csrf = randomToken(24);
        const cookieAttrs = `Path=${basePath}/reviews/${encodeURIComponent(reviewId)}; HttpOnly; SameSite=Strict; Max-Age=3600${secure ? '; Secure' : ''}`;
        return linkPage(200, reviewPage(view, services, token, csrf), { 'set-cookie': `${CSRF_COOKIE}=${csrf}; ${cookieAttrs}` });
      }

      if (mediaType(event) !== 'application/x-www-form-urlencoded') throw new ReviewError('csrf_failed', 'Submit the decision from the review page.');
      const requestOrigin = header(event, 'origin');
      if (requestOrigin !== undefined && requestOrigin !== origin) {
        throw new ReviewError('csrf_failed', 'The decision did not come from the review page.');
      }
      const form = new URLSearchParams(bodyText(event, services.config.maxBodyBytes));
      if (!sameSecret(cookie(event, CSRF_COOKIE), form.get('csrf') ?? undefined)) {
        throw new ReviewError('csrf_failed', 'The decision did not come from the review page; open the link again.');
      }
      const decision = form.get('decision');
      if (decision !== 'approve' && decision !== 'deny')
        throw new ReviewError('link_invalid', 'Choose approve or deny.', { next: 'Open your review link again and press Approve or Deny.' });
      const { review, consumer, approvals } = await decideReview(services, keys, {
        reviewId,
        token: form.get('t') ?? '',
        decision,
        comment: form.get('comment') ?? '',
      });
      const remaining = review.approvalsRequired - approvals.length;
      const next =
        decision === 'deny'
          ? 'The request is denied; the requester is told your reason.'
          : remaining > 0
            ? `${remaining === 1 ? '1 more approval is' : `${remaining} more approvals are`} needed from another reviewer, who gets their own email and sees your comment.`
            : review.requestId
              ? 'That was the last approval needed; the change is being applied.'
              : 'That was the last approval needed; the consumer is being activated.';
      return linkPage(
        200,
        page(
          'Decision recorded',
          `<p>You ${decision === 'approve' ? 'approved' : 'denied'} <strong>${escapeHtml(consumer.clientName)}</strong>. ${escapeHtml(next)}</p>`,
        ),
        {
          'set-cookie': `${CSRF_COOKIE}=; Path=${basePath}/reviews/${encodeURIComponent(reviewId)}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`,
        },
      );
    } catch (error) {
      return errorPage(error, services, event);
    }
  });
}
