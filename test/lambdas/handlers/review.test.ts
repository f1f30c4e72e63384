import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SfnWorkflow } from '../../../lambdas/adapters/aws/sfn-workflow.js';
import type { GatehouseConfig } from '../../../lambdas/core/config.js';
import type { Consumer } from '../../../lambdas/core/consumer/consumer.js';
import type { Review } from '../../../lambdas/core/review/review.js';
import { SigningKeyCache } from '../../../lambdas/core/tokens/signing-keys.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createReviewHandler } from '../../../lambdas/handlers/review.js';
import { ALICE, BOB, linkFor, pendingConsumer, REVIEW_ID, reviewFixture, TASK_TOKEN } from '../core/review/fixtures.js';
import { AWS_TEST_CLIENT_CONFIG, auditTrailFor, CLIENT_ID, HOUR_MS, NOW } from '../fixtures.js';
import { buildServices, FakeTable, httpEvent, ISSUER, lambdaContext } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-onboarding';
const FORM = 'application/x-www-form-urlencoded';

let table: FakeTable;
let services: ReturnType<typeof buildServices>;
let keys: SigningKeyCache;
let handler: HttpLambda;

/** Builds the handler (optionally under another issuer) and seeds the consumer, its trail and the open round. */
function setUp(options: { consumer?: Partial<Consumer>; review?: Partial<Review>; config?: Partial<GatehouseConfig> } = {}): Review {
  services = buildServices({
    jwks: { keys: [] },
    workflow: new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) }),
    ...(options.config ? { config: options.config } : {}),
  });
  keys = new SigningKeyCache(services.vault, services.clock);
  handler = createReviewHandler(services);
  table.putConsumer(pendingConsumer(options.consumer));
  table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
  const review = reviewFixture(options.review);
  table.putReview(review);
  return review;
}

beforeEach(() => {
  table = new FakeTable(ddb);
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
});

afterEach(() => {
  ddb.reset();
  sfn.reset();
});

const link = (reviewer = ALICE, review = reviewFixture(), issuer = services.config.issuer) => linkFor(keys, issuer, review, reviewer);

function get(token: string | undefined, reviewId = REVIEW_ID): Promise<APIGatewayProxyResult> {
  return handler(
    httpEvent({
      method: 'GET',
      resource: '/reviews/{review_id}',
      path: `/reviews/${reviewId}`,
      pathParameters: { review_id: reviewId },
      queryStringParameters: token === undefined ? null : { t: token },
    }),
    lambdaContext,
  );
}

function post(body: string, headers: Record<string, string>, reviewId = REVIEW_ID): Promise<APIGatewayProxyResult> {
  return handler(
    httpEvent({ method: 'POST', resource: '/reviews/{review_id}', path: `/reviews/${reviewId}`, pathParameters: { review_id: reviewId }, headers, body }),
    lambdaContext,
  );
}

/** What a browser holds after opening the page: the form's hidden fields and the CSRF cookie. */
async function openPage(reviewer = ALICE): Promise<{ t: string; csrf: string; cookie: string }> {
  const page = await get(await link(reviewer));
  expect(page.statusCode).toBe(200);
  const field = (name: string) => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(page.body)![1]!.replaceAll('&amp;', '&');
  const cookie = String(page.headers!['set-cookie']).split(';')[0]!;
  ddb.resetHistory();
  return { t: field('t'), csrf: field('csrf'), cookie };
}

/** Submits a decision as the page's form would, with `overrides` for the request headers or fields. */
async function submit(
  decision: string,
  comment = '',
  overrides: { reviewer?: string; headers?: Record<string, string | undefined>; fields?: Record<string, string | undefined> } = {},
): Promise<APIGatewayProxyResult> {
  const page = await openPage(overrides.reviewer);
  const fields = Object.entries({ decision, comment, t: page.t, csrf: page.csrf, ...overrides.fields }).filter(
    (e): e is [string, string] => e[1] !== undefined,
  );
  const headers = Object.entries({ 'content-type': FORM, origin: new URL(services.config.issuer).origin, cookie: page.cookie, ...overrides.headers }).filter(
    (e): e is [string, string] => e[1] !== undefined,
  );
  return post(new URLSearchParams(fields).toString(), Object.fromEntries(headers));
}

const writes = () => ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand));

function expectNothingWrittenOrSent(): void {
  expect(writes()).toHaveLength(0);
  expect(sfn.calls()).toHaveLength(0);
}

/** An HTML page with the strict headers every review response carries. */
function expectStrictHtml(response: APIGatewayProxyResult, status: number): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers).toMatchObject({
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'strict-origin',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
  });
  const csp = String(response.headers!['content-security-policy']);
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).not.toMatch(/script-src/);
  expect(response.body).toMatch(/^<!doctype html>/);
}

/** The refusal page for a ReviewError: its status and the sentence only that error code shows. */
function expectRefusal(response: APIGatewayProxyResult, status: number, sentence: string): void {
  expectStrictHtml(response, status);
  expect(response.body).toContain('<title>Review not available</title>');
  expect(response.body).toContain(sentence);
  expect(response.headers).not.toHaveProperty('set-cookie');
}

const LINK_INVALID = 'This review link is not valid.';
const CSRF_FAILED = 'did not come from the review page';

describe('createReviewHandler', () => {
  describe('GET /reviews/{review_id}', () => {
    it('shows the request with strict headers and a CSRF cookie, changing nothing', async () => {
      setUp();

      const response = await get(await link());

      expectStrictHtml(response, 200);
      const cookie = String(response.headers!['set-cookie']);
      expect(cookie).toMatch(new RegExp(`^gh_csrf=[A-Za-z0-9_-]{32}; Path=/reviews/${REVIEW_ID}; HttpOnly; SameSite=Strict; Max-Age=3600; Secure$`));
      const csrf = /^gh_csrf=([^;]+);/.exec(cookie)![1]!;
      expect(response.body).toContain(`<input type="hidden" name="csrf" value="${csrf}">`);
      expect(response.body).toContain('<title>Review: SME payments</title>');
      expect(response.body).toContain('payments:initiate (high risk)');
      expect(response.body).toContain(`Reviewer <strong>${ALICE}</strong> — approval 1 of 2`);
      expect(response.body).toContain('<input type="hidden" name="decision" value="approve">');
      expect(response.body).toContain('<input type="hidden" name="decision" value="deny">');
      expectNothingWrittenOrSent();
    });

    it('gives every opening a fresh CSRF secret and still changes nothing', async () => {
      setUp();
      const token = await link();

      const first = String((await get(token)).headers!['set-cookie']);
      const second = String((await get(token)).headers!['set-cookie']);

      expect(first).not.toBe(second);
      expectNothingWrittenOrSent();
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'open' });
    });

    it('leaves Secure off the cookie and scopes it under the issuer’s path for an http issuer', async () => {
      setUp({ config: { issuer: 'http://localhost:8080/gh' } });

      const response = await get(await link());

      expect(response.statusCode).toBe(200);
      expect(String(response.headers!['set-cookie'])).toMatch(new RegExp(`; Path=/gh/reviews/${REVIEW_ID}; HttpOnly; SameSite=Strict; Max-Age=3600$`));
    });

    it('escapes every field the requester wrote', async () => {
      setUp({
        consumer: {
          clientName: '<script>alert("name")</script>',
          purpose: '"><img src=x onerror=alert(1)> Reconcile balances every night',
          contacts: ['<svg onload=alert(2)>@fintech.example'],
        },
      });

      const response = await get(await link());

      expect(response.statusCode).toBe(200);
      expect(response.body).not.toMatch(/<script|<img|<svg/i);
      expect(response.body).toContain('<title>Review: &lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</title>');
      expect(response.body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt; Reconcile balances every night');
      expect(response.body).toContain('&lt;svg onload=alert(2)&gt;@fintech.example');
    });

    it('refuses a request without a token with 403, changing nothing', async () => {
      setUp();

      expectRefusal(await get(undefined), 403, 'This review link is incomplete.');
      expectNothingWrittenOrSent();
    });

    it('refuses a tampered token with 403, changing nothing', async () => {
      setUp();
      const [header, payload, signature] = (await link()).split('.');

      expectRefusal(await get(`${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`), 403, LINK_INVALID);
      expectNothingWrittenOrSent();
    });

    it('refuses a token for another review with 403', async () => {
      setUp();

      expectRefusal(await get(await link(), 'f'.repeat(32)), 403, 'This link is for another review.');
      expectNothingWrittenOrSent();
    });

    it('refuses an expired link with 410, changing nothing', async () => {
      setUp();
      const token = await link();
      services.clock.advance(72 * HOUR_MS);

      const response = await get(token);

      expectRefusal(response, 410, 'This review link expired on 28 November 2026 at 10:00 UTC, when the review period ended.');
      expect(response.body).toContain(
        '<strong>What to do next:</strong> Nothing more is needed from you. If nobody decided in time, the request expired with the review period; the requester may submit it again.',
      );
      expectNothingWrittenOrSent();
    });

    it('refuses a round past its deadline with 410 even while the link is unexpired', async () => {
      const review = setUp({ review: { deadline: new Date(NOW.getTime() + HOUR_MS).toISOString() } });
      const token = await linkFor(keys, ISSUER, review, ALICE, { expiresAt: new Date(NOW.getTime() + 72 * HOUR_MS) });
      services.clock.advance(2 * HOUR_MS);

      const response = await get(token);

      expectRefusal(response, 410, 'The review period ended on 25 November 2026 at 11:00 UTC, so the request has expired.');
      expect(response.body).toContain('Nothing more is needed from you. The requester may submit the request again.');
    });

    it('answers a round another reviewer decided with 409 naming who decided it, when, and what comes next', async () => {
      setUp({ review: { status: 'approved', decidedBy: BOB, decidedAt: new Date(NOW.getTime() + 4 * 60_000).toISOString(), comment: '' } });

      const response = await get(await link());

      expectRefusal(response, 409, `Another reviewer, ${BOB}, already approved this request on 25 November 2026 at 10:04 UTC (approval 1 of 2).`);
      expect(response.body).toContain('Nothing more is needed from this link. The next approval is asked for in a new review email.');
      expectNothingWrittenOrSent();
    });

    it('answers a link to a request its requester withdrew with 409 saying the request has ended, changing nothing', async () => {
      setUp({ consumer: { status: 'withdrawn', openReviewId: undefined } });

      const response = await get(await link());

      expectRefusal(response, 409, 'This request has ended: its requester withdrew it before the review was complete.');
      expect(response.body).toContain('Nothing more is needed from you.');
      expectNothingWrittenOrSent();
    });

    it('answers a reviewer who opens their own used link with 409 saying when they used it', async () => {
      setUp({ review: { status: 'denied', decidedBy: ALICE, decidedAt: new Date(NOW.getTime() + 4 * 60_000).toISOString(), comment: 'No contract' } });

      const response = await get(await link());

      expectRefusal(response, 409, 'This link was already used by you on 25 November 2026 at 10:04 UTC: you denied the request.');
      expect(response.body).toContain('<strong>What to do next:</strong> Nothing more is needed from you.');
    });

    it('answers a link of a superseded round with 410 pointing to the latest email', async () => {
      setUp({ review: { status: 'superseded' } });

      const response = await get(await link());

      expectRefusal(response, 410, 'This link was replaced by a newer review email for the same request.');
      expect(response.body).toContain('Use the link in the latest review email.');
    });

    it('shows the verified organisation, a warning when the application name differs from it, and the request in words', async () => {
      setUp({ consumer: { organisation: 'Fintech Ltd' } });

      const response = await get(await link());

      expect(response.body).toContain('<p class="org">Verified organisation: <strong>Fintech Ltd</strong></p>');
      expect(response.body).toContain(
        '<p class="warn"><strong>Check before approving:</strong> The application calls itself &quot;SME payments&quot;, which does not contain the name of the verified organisation, &quot;Fintech Ltd&quot;.',
      );
      for (const words of [
        'Decide by <strong>28 November 2026 at 10:00 UTC, in 3 days</strong>',
        '<th>Scopes</th><td>payments:initiate (high risk): Initiate payments from customer accounts.</td>',
        '<th>Data classes</th><td>payment (high risk): Payment orders and beneficiary details (PSD2 payment initiation).</td>',
        '<th>Why review</th><td>Payment initiation needs two reviewers.</td>',
        '<p>25 December 2026, in 30 days</p><p>A grant of 30 days from 25 November 2026; high risk allows at most 90 days.</p>',
        '<th>None yet</th><td>This is approval 1 of 2.</td>',
        '<th>Client authentication</th><td>Signed assertion from a private key only the client holds (private_key_jwt); no shared secret exists.</td>',
        '<th>Token binding</th><td>Every access token is bound to the client’s key (DPoP)',
        '<th>Access-token lifetime</th><td>5 minutes;',
        '<th>Dormancy</th><td>Suspended automatically after 30 days without use.</td>',
      ]) {
        expect(response.body).toContain(words);
      }
      expect(response.body).not.toMatch(/\d{4}-\d\d-\d\dT/);
      expect(response.body).not.toContain('payment_initiation_requires_review');
    });

    it('shows no warning when the application name carries the verified organisation', async () => {
      setUp({ consumer: { organisation: 'Fintech Ltd', clientName: 'Fintech SME payments' } });

      const response = await get(await link());

      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain('class="warn"');
    });

    it('shows the second reviewer who approved the first round, when, and their comment, escaped', async () => {
      setUp({ consumer: { approvals: [{ reviewer: BOB, round: 1, at: NOW.toISOString(), comment: 'Contract <b>checked</b>' }] }, review: { round: 2 } });

      const response = await get(await link());

      expect(response.body).toContain(
        `<th>Approval 1</th><td><p>${BOB} approved on 25 November 2026 at 10:00 UTC.</p><p>Comment: “Contract &lt;b&gt;checked&lt;/b&gt;”</p></td>`,
      );
      expect(response.body).toContain('approval 2 of 2');
    });
  });

  describe('POST /reviews/{review_id}', () => {
    it('records an approval, resumes the workflow and clears the CSRF cookie', async () => {
      setUp();

      const response = await submit('approve', 'Contract checked');

      expectStrictHtml(response, 200);
      expect(response.body).toContain('<title>Decision recorded</title>');
      expect(response.body).toContain(
        'You approved <strong>SME payments</strong>. 1 more approval is needed from another reviewer, who gets their own email and sees your comment.',
      );
      expect(response.headers!['set-cookie']).toBe(`gh_csrf=; Path=/reviews/${REVIEW_ID}; HttpOnly; SameSite=Strict; Max-Age=0; Secure`);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
      expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
        {
          taskToken: TASK_TOKEN,
          output: JSON.stringify({ approvalsGranted: 1, reviewId: REVIEW_ID, remainingSeconds: (Date.parse(reviewFixture().deadline) - NOW.getTime()) / 1000 }),
        },
      ]);
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE, comment: 'Contract checked' });
    });

    it('says when an approval was the last one needed', async () => {
      setUp({ consumer: { approvals: [{ reviewer: BOB, round: 1, at: NOW.toISOString() }] }, review: { round: 2 } });

      const response = await submit('approve');

      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('That was the last approval needed; the consumer is being activated.');
    });

    it('records a denial with its reason and fails the task', async () => {
      setUp();

      const response = await submit('deny', 'No contract on file');

      expectStrictHtml(response, 200);
      expect(response.body).toContain('You denied <strong>SME payments</strong>. The request is denied; the requester is told your reason.');
      expect(String(response.headers!['set-cookie'])).toMatch(/^gh_csrf=; .*Max-Age=0/);
      expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
        { taskToken: TASK_TOKEN, error: 'Gatehouse.Denied', cause: JSON.stringify({ reviewer: ALICE, comment: 'No contract on file' }) },
      ]);
    });

    it('accepts a form whose content type carries a charset', async () => {
      setUp();

      expect((await submit('approve', '', { headers: { 'content-type': `${FORM}; charset=UTF-8` } })).statusCode).toBe(200);
    });

    it.each<[string, Record<string, string | undefined>, Record<string, string | undefined>]>([
      ['no CSRF cookie', { cookie: undefined }, {}],
      ['a forged CSRF cookie', { cookie: 'gh_csrf=forged-value-of-another-length' }, {}],
      ['a CSRF cookie of the same length that differs', { cookie: `gh_csrf=${'A'.repeat(32)}` }, {}],
      ['no CSRF field', {}, { csrf: undefined }],
      ['an empty CSRF field and cookie', { cookie: 'gh_csrf=' }, { csrf: '' }],
      ['a foreign Origin', { origin: 'https://evil.example' }, {}],
      ['an Origin that only starts like the issuer', { origin: 'https://gatehouse.test.evil.example' }, {}],
      ['the issuer’s host over plain http', { origin: 'http://gatehouse.test' }, {}],
    ])('refuses a post with %s with 403, writing and sending nothing', async (_case, headers, fields) => {
      setUp();

      expectRefusal(await submit('approve', '', { headers, fields }), 403, CSRF_FAILED);
      expectNothingWrittenOrSent();
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'open' });
    });

    it.each([['application/json'], ['multipart/form-data; boundary=x'], ['text/plain'], [undefined]])(
      'refuses a body sent as %s with 403, writing and sending nothing',
      async (contentType) => {
        setUp();

        expectRefusal(await submit('approve', '', { headers: { 'content-type': contentType } }), 403, 'Submit the decision from the review page.');
        expectNothingWrittenOrSent();
      },
    );

    it.each([['approve_all'], ['APPROVE'], [''], [undefined]])('refuses the decision %j with 403, writing and sending nothing', async (decision) => {
      setUp();

      expectRefusal(await submit('approve', '', { fields: { decision } }), 403, 'Choose approve or deny.');
      expectNothingWrittenOrSent();
    });

    it('refuses a denial without a reason with 400, writing and sending nothing', async () => {
      setUp();

      const response = await submit('deny', '   ');

      expectRefusal(response, 400, 'Say why you deny the request.');
      expect(response.body).toContain('Go back, write your reason in the box above the Deny button, and submit again.');
      expectNothingWrittenOrSent();
    });

    it('refuses a post whose link token is missing, or for another review, with 403', async () => {
      setUp();
      const other = await linkFor(keys, ISSUER, reviewFixture({ reviewId: 'f'.repeat(32) }), ALICE);

      expectRefusal(await submit('approve', '', { fields: { t: undefined } }), 403, LINK_INVALID);
      expectRefusal(await submit('approve', '', { fields: { t: other } }), 403, 'This link is for another review.');
      expectNothingWrittenOrSent();
    });

    it('refuses a post after the link expired with 410, writing and sending nothing', async () => {
      setUp();
      const page = await openPage();
      services.clock.advance(72 * HOUR_MS);

      const response = await post(new URLSearchParams({ decision: 'approve', comment: '', t: page.t, csrf: page.csrf }).toString(), {
        'content-type': FORM,
        origin: ISSUER,
        cookie: page.cookie,
      });

      expectRefusal(response, 410, 'This review link expired on 28 November 2026 at 10:00 UTC, when the review period ended.');
      expectNothingWrittenOrSent();
    });

    it('refuses a second decision on the round with 409, writing and sending nothing', async () => {
      setUp();
      const bob = await openPage(BOB);
      expect((await submit('approve')).statusCode).toBe(200);
      ddb.resetHistory();
      sfn.resetHistory();

      const response = await post(new URLSearchParams({ decision: 'deny', comment: 'No', t: bob.t, csrf: bob.csrf }).toString(), {
        'content-type': FORM,
        origin: ISSUER,
        cookie: bob.cookie,
      });

      expectRefusal(response, 409, `Another reviewer, ${ALICE}, already approved this request on 25 November 2026 at 10:00 UTC (approval 1 of 2).`);
      expectNothingWrittenOrSent();
    });

    it('refuses a decision on a page opened before its requester withdrew the request with 409, writing and sending nothing', async () => {
      setUp();
      const page = await openPage();
      table.patchConsumer(CLIENT_ID, { status: 'withdrawn', openReviewId: undefined });
      ddb.resetHistory();

      const response = await post(new URLSearchParams({ decision: 'approve', comment: '', t: page.t, csrf: page.csrf }).toString(), {
        'content-type': FORM,
        origin: ISSUER,
        cookie: page.cookie,
      });

      expectRefusal(response, 409, 'This request has ended: its requester withdrew it before the review was complete.');
      expectNothingWrittenOrSent();
      expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'withdrawn' });
    });

    it('accepts a post without an Origin header only when the CSRF cookie matches', async () => {
      setUp();

      expect((await submit('approve', '', { headers: { origin: undefined, cookie: 'gh_csrf=forged' } })).statusCode).toBe(403);
      expect((await submit('approve', '', { headers: { origin: undefined } })).statusCode).toBe(200);
    });

    it('answers 503 with Retry-After when the decision is recorded but the workflow cannot be reached', async () => {
      setUp();
      sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

      const response = await submit('approve');

      expectStrictHtml(response, 503);
      expect(response.headers).toMatchObject({ 'retry-after': '10' });
      expect(response.body).toContain('<title>Try again in a moment</title>');
      expect(response.body).toContain('Your decision is recorded');
      expect(response.headers).not.toHaveProperty('set-cookie');
      expect(table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE });
    });

    it('answers 410 when the workflow says the review period ended before the decision arrived', async () => {
      setUp();
      sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

      const response = await submit('approve');

      expectRefusal(response, 410, 'The review period ended before your decision arrived, so it was not counted.');
      expect(response.body).toContain('The request has expired; the requester may submit it again.');
    });

    it('refuses a body over the size limit with 413, writing nothing', async () => {
      setUp();

      const response = await submit('approve', 'x'.repeat(70_000));

      expect(response.statusCode).toBe(413);
      expectNothingWrittenOrSent();
    });

    it('never answers 5xx nor writes anything for an arbitrary forged post', async () => {
      setUp();
      const text = fc.string({ maxLength: 40 });
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            decision: fc.oneof(fc.constantFrom('approve', 'deny'), text),
            comment: text,
            t: text,
            csrf: text,
            cookie: fc.oneof(
              text.map((v) => `gh_csrf=${v}`),
              text,
            ),
            origin: fc.oneof(fc.constantFrom(ISSUER, 'null', 'https://evil.example'), text),
            contentType: fc.oneof(fc.constant(FORM), text),
          }),
          async ({ cookie, origin, contentType, ...fields }) => {
            const response = await post(new URLSearchParams(fields).toString(), { 'content-type': contentType, origin, cookie });
            expect([400, 403]).toContain(response.statusCode);
          },
        ),
        { numRuns: 150 },
      );
      expectNothingWrittenOrSent();
    });

    it('refuses a CSRF field with non-ASCII characters with 403, not 500', async () => {
      setUp();

      const response = await submit('approve', '', { headers: { cookie: `gh_csrf=${'x'.repeat(32)}` }, fields: { csrf: 'é'.repeat(32) } });

      expect(response.statusCode).toBe(403);
    });
  });
});
