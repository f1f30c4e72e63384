import { CreateSecretCommand, DecryptionFailure, GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain, type AuditEvent } from '../../../lambdas/core/audit/event.js';
import { STAGES } from '../../../lambdas/core/ports.js';
import { SigningKeyCache } from '../../../lambdas/core/tokens/signing-keys.js';
import { sha256B64u, sha256Hex } from '../../../lambdas/core/util/hash.js';
import { createDiscoveryHandler } from '../../../lambdas/handlers/discovery.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createRegisterHandler } from '../../../lambdas/handlers/register.js';
import { createRegistrationReadHandler } from '../../../lambdas/handlers/registration-read.js';
import { createReviewTaskHandler } from '../../../lambdas/handlers/review-task.js';
import { createReviewHandler } from '../../../lambdas/handlers/review.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import { ALICE, BOB, linkFor, pendingConsumer, REVIEW_ID, reviewFixture, TASK_TOKEN } from '../core/review/fixtures.js';
import { auditTrailFor, CLIENT_ID, CLIENT_SECRET, consumerFixture, NOW, publicRegistration, REGISTRATION_TOKEN, reviewRegistration } from '../fixtures.js';
import { bodyOf, httpEvent, lambdaContext, statementSigner, type StatementSigner } from '../handlers/fixtures.js';
import {
  CLIENT_SECRET_PREFIX,
  expectUnavailable,
  faultPlane,
  NOTICE_STATE_MACHINE_ARN,
  openApproval,
  OPERATOR,
  operatorSuspension,
  SECRETS_FAULT_NAMES,
  SECRETS_FAULTS,
  sesThrottled,
  sfnThrottled,
  type FaultPlane,
} from './fault-plane.js';

/**
 * Secrets Manager, Step Functions and SES failing under the real AWS adapters: each route either answers 503 with
 * Retry-After having written nothing (or rolled back to a recorded, audited state), or finishes what does not depend on
 * the failed call; a review decision is never lost and a workflow task fails so that Step Functions can run it again.
 */
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const IDEMPOTENCY_KEY = 'c0ffee00-1111-4222-8333-444455556666';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const call = (handler: HttpLambda, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handler(event, lambdaContext);
const commandNames = (calls: ReadonlyArray<{ args: readonly unknown[] }>) => calls.map((c) => (c.args[0] as object).constructor.name);
const auditOf = (item: Record<string, unknown>): AuditEvent => {
  const { pk: _pk, sk: _sk, kind: _kind, ...event } = item;
  return event as unknown as AuditEvent;
};

let signer: StatementSigner;
let clientJwk: JWK;
let plane: FaultPlane;

beforeAll(async () => {
  signer = await statementSigner();
  clientJwk = { ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'client-key-1' };
});

beforeEach(async () => {
  plane = await faultPlane({ jwks: signer.jwks });
});

afterEach(() => {
  plane.ddb.stub.reset();
});

/** A partner request for medium-risk data: the default policy sends it to one reviewer, through the workflow. */
const reviewRequest = async () => reviewRegistration(clientJwk, await signer.sign({ software_id: 'treasury-sync', tier: 'partner', org_name: 'Partner Ltd' }));

const register = (body: unknown, headers: Record<string, string> = {}) =>
  call(
    createRegisterHandler(plane.services),
    httpEvent({ method: 'POST', resource: '/register', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }),
  );

const token = (handler = createTokenHandler(plane.services)) =>
  call(
    handler,
    httpEvent({
      method: 'POST',
      resource: '/oauth2/token',
      headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    }),
  );

describe('Secrets Manager unavailable', () => {
  describe('POST /oauth2/token: the signing key cannot be read', () => {
    beforeEach(() => plane.ddb.table.putConsumer(consumerFixture({ lastUsedAt: NOW.toISOString() })));

    it.each(SECRETS_FAULT_NAMES)('answers 503 with Retry-After and logs the outage (%s)', async (name) => {
      plane.vaultSm.on(GetSecretValueCommand).rejects(SECRETS_FAULTS[name]());
      const before = plane.state();

      const response = await token();

      expectUnavailable(response, 'oauth', '5');
      expect(plane.state()).toBe(before);
      expect(plane.services.log.error).toHaveBeenCalledWith('dependency unavailable', { error: SECRETS_FAULTS[name]().name });
    });

    it('signs again on the next request once the secret is readable (a failed read is not cached)', async () => {
      const handler = createTokenHandler(plane.services);
      plane.vaultSm.on(GetSecretValueCommand).rejects(SECRETS_FAULTS.ThrottlingException());
      expectUnavailable(await token(handler), 'oauth');
      plane.healVault();

      expect((await token(handler)).statusCode).toBe(200);
    });

    it('answers 500, not 503, when the key cannot be decrypted: a broken deployment is not worth retrying', async () => {
      plane.vaultSm.on(GetSecretValueCommand).rejects(new DecryptionFailure({ message: 'KMS key is disabled', $metadata: { httpStatusCode: 400 } }));

      const response = await token();

      expect(response.statusCode).toBe(500);
      expect(response.headers).not.toHaveProperty('retry-after');
      expect(plane.services.log.error).toHaveBeenCalledWith('unhandled error', expect.objectContaining({ error: 'DecryptionFailure' }));
    });
  });

  describe('GET /.well-known/jwks.json: the keys cannot be read', () => {
    it.each(SECRETS_FAULT_NAMES)('answers 503 with Retry-After, never an empty key set (%s)', async (name) => {
      plane.vaultSm.on(GetSecretValueCommand).rejects(SECRETS_FAULTS[name]());

      const response = await call(createDiscoveryHandler(plane.services), httpEvent({ method: 'GET', resource: '/.well-known/jwks.json' }));

      expectUnavailable(response, 'problem', '5');
      expect(response.body).not.toContain('"keys"');
    });
  });

  describe('POST /register: the client secret cannot be created', () => {
    it.each(SECRETS_FAULT_NAMES)('answers 503 with Retry-After and registers nothing when CreateSecret fails (%s)', async (name) => {
      plane.clientSecrets.stub.on(CreateSecretCommand).rejects(SECRETS_FAULTS[name]());
      const before = plane.state();

      const response = await register(publicRegistration(), { 'idempotency-key': IDEMPOTENCY_KEY });

      expectUnavailable(response, 'problem', '30');
      expect(bodyOf(response)['detail']).toContain('nothing was registered');
      expect(plane.state()).toBe(before);
      expect(plane.ddb.sent()).not.toContain('TransactWriteCommand');
    });

    it.each(SECRETS_FAULT_NAMES)('deletes the new secret and registers nothing when rotation cannot be turned on (%s)', async (name) => {
      plane.clientSecrets.stub.on(RotateSecretCommand).rejects(SECRETS_FAULTS[name]());
      const before = plane.state();

      expectUnavailable(await register(publicRegistration()), 'problem', '30');

      expect(plane.state()).toBe(before);
      expect(commandNames(plane.clientSecrets.stub.calls())).toEqual(['CreateSecretCommand', 'RotateSecretCommand', 'DeleteSecretCommand']);
    });
  });

  describe('GET /register/{client_id} (RFC 7592 read): the client secret cannot be read', () => {
    it.each(SECRETS_FAULT_NAMES)('answers 503 with Retry-After, never a registration without its secret (%s)', async (name) => {
      plane.ddb.table.putConsumer(consumerFixture());
      plane.clientSecrets.secrets.set(`${CLIENT_SECRET_PREFIX}${CLIENT_ID}`, JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }));
      plane.clientSecrets.stub.on(GetSecretValueCommand).rejects(SECRETS_FAULTS[name]());
      const before = plane.state();

      const response = await call(
        createRegistrationReadHandler(plane.services),
        httpEvent({
          method: 'GET',
          resource: '/register/{client_id}',
          pathParameters: { client_id: CLIENT_ID },
          headers: { authorization: `Bearer ${REGISTRATION_TOKEN}` },
        }),
      );

      expectUnavailable(response, 'problem', '5');
      expect(response.body).not.toContain('client_id');
      expect(plane.state()).toBe(before);
      expect(plane.clientSecrets.stub.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toMatchObject({ VersionStage: STAGES.current });
    });
  });

  describe('GET /reviews/{review_id}: the link cannot be checked', () => {
    it.each(SECRETS_FAULT_NAMES)('answers an HTML 503 with Retry-After and changes nothing (%s)', async (name) => {
      plane.ddb.table.putConsumer(pendingConsumer());
      plane.ddb.table.putReview(reviewFixture());
      const t = await linkFor(new SigningKeyCache(plane.services.vault, plane.services.clock), plane.services.config.issuer, reviewFixture(), ALICE);
      plane.vaultSm.on(GetSecretValueCommand).rejects(SECRETS_FAULTS[name]());
      const before = plane.state();

      const response = await call(
        createReviewHandler(plane.services),
        httpEvent({
          method: 'GET',
          resource: '/reviews/{review_id}',
          path: `/reviews/${REVIEW_ID}`,
          pathParameters: { review_id: REVIEW_ID },
          queryStringParameters: { t },
        }),
      );

      expectUnavailable(response, 'html', '10');
      expect(plane.state()).toBe(before);
    });
  });
});

describe('Step Functions unavailable', () => {
  describe('POST /register: StartExecution fails', () => {
    it('answers 503 with Retry-After 30 and closes the stored request as failed, audited, with its response released', async () => {
      plane.sfn.on(StartExecutionCommand).rejects(sfnThrottled());

      const response = await register(await reviewRequest(), { 'idempotency-key': IDEMPOTENCY_KEY });

      expectUnavailable(response, 'problem', '30');
      expect(response.body).not.toContain('registration_access_token');
      const consumers = plane.ddb.table.items('CONSUMER#').filter((i) => i['kind'] === 'consumer');
      expect(consumers).toEqual([expect.objectContaining({ status: 'failed' })]);
      const trail = plane.ddb.table.auditTrail(String(consumers[0]!['clientId']));
      expect(trail.map((e) => e.type)).toEqual(['consumer.requested', 'consumer.evaluated', 'consumer.review_failed']);
      expect(verifyChain(trail)).toEqual({ ok: true });
      expect(plane.ddb.table.items('IDEMPOTENCY#')).toEqual([]);
      expect(plane.clientSecrets.stub.calls()).toHaveLength(0);
    });

    it('starts afresh when the client retries with the same Idempotency-Key once the workflow is back', async () => {
      plane.sfn
        .on(StartExecutionCommand)
        .rejectsOnce(sfnThrottled())
        .callsFake((input: { name?: string }) => ({
          executionArn: `arn:aws:states:eu-west-1:123456789012:execution:gatehouse-onboarding:${input.name}`,
          startDate: new Date(),
        }));
      const request = await reviewRequest();
      expectUnavailable(await register(request, { 'idempotency-key': IDEMPOTENCY_KEY }), 'problem');

      const retried = await register(request, { 'idempotency-key': IDEMPOTENCY_KEY });

      expect(retried.statusCode).toBe(202);
      const statuses = plane.ddb.table
        .items('CONSUMER#')
        .filter((i) => i['kind'] === 'consumer')
        .map((i) => i['status']);
      expect(statuses.sort()).toEqual(['failed', 'pending_review']);
      expect(plane.sfn.commandCalls(StartExecutionCommand)).toHaveLength(2);
    });
  });

  describe('POST /admin/consumers/{client_id}/suspend: the notice execution cannot start', () => {
    it('suspends, answers 200 and logs the notice it could not hand over; SES is never called by admin', async () => {
      plane.ddb.table.putConsumer(consumerFixture());
      plane.ddb.table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
      plane.sfn.on(StartExecutionCommand, { stateMachineArn: NOTICE_STATE_MACHINE_ARN }).rejects(sfnThrottled());
      const response = await operatorSuspension(plane)();

      expect(response.statusCode).toBe(200);
      expect(plane.ddb.table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'suspended' });
      expect(plane.ddb.table.auditTrail(CLIENT_ID).at(-1)).toMatchObject({ type: 'consumer.suspended', actor: { kind: 'operator', id: OPERATOR } });
      expect(plane.services.log.error).toHaveBeenCalledWith('lifecycle notice not sent', { clientId: CLIENT_ID, error: 'ThrottlingException' });
      expect(plane.sentEmails()).toEqual([]);
    });

    it('hands the notice to the notice workflow when Step Functions answers', async () => {
      plane.ddb.table.putConsumer(consumerFixture());
      plane.ddb.table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
      expect((await operatorSuspension(plane)()).statusCode).toBe(200);
      const started = plane.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      expect(started.map((input) => input.stateMachineArn)).toEqual([NOTICE_STATE_MACHINE_ARN]);
      expect(JSON.parse(started[0]!.input!)).toMatchObject({ to: consumerFixture().contacts, subject: expect.stringContaining('Access suspended') });
      expect(plane.sentEmails()).toEqual([]);
    });
  });

  describe('POST /reviews/{review_id}: SendTaskSuccess fails', () => {
    let decide: () => Promise<APIGatewayProxyResult>;

    beforeEach(async () => {
      decide = await openApproval(plane);
    });

    it('records the decision, answers 503 with Retry-After, and delivers it when the reviewer submits again', async () => {
      plane.sfn.on(SendTaskSuccessCommand).rejects(sfnThrottled());

      const first = await decide();

      expectUnavailable(first, 'html', '10');
      expect(first.body).toContain('Your decision is recorded');
      expect(plane.ddb.table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE });
      expect(plane.ddb.table.reviewItem(REVIEW_ID)).not.toHaveProperty('deliveredAt');
      expect(plane.ddb.table.auditTrail(CLIENT_ID).map((e) => e.type)).toContain('consumer.review_approved');

      plane.sfn.on(SendTaskSuccessCommand).resolves({});
      const second = await decide();

      expect(second.statusCode).toBe(200);
      expect(plane.sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([TASK_TOKEN, TASK_TOKEN]);
      expect(plane.ddb.table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', deliveredAt: NOW.toISOString() });
      // One decision, one audit event: the resubmit only delivered it.
      expect(plane.ddb.table.auditTrail(CLIENT_ID).filter((e) => e.type === 'consumer.review_approved')).toHaveLength(1);
    });

    it('lets only the reviewer who decided resend it; another reviewer is told it is decided', async () => {
      plane.sfn.on(SendTaskSuccessCommand).rejects(sfnThrottled());
      expectUnavailable(await decide(), 'html');
      const t = await linkFor(new SigningKeyCache(plane.services.vault, plane.services.clock), plane.services.config.issuer, reviewFixture(), BOB);

      const bobsPage = await call(
        createReviewHandler(plane.services),
        httpEvent({
          method: 'GET',
          resource: '/reviews/{review_id}',
          path: `/reviews/${REVIEW_ID}`,
          pathParameters: { review_id: REVIEW_ID },
          queryStringParameters: { t },
        }),
      );

      expect(bobsPage.statusCode).toBe(409);
      expect(plane.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    });
  });
});

describe('SES unavailable', () => {
  const ROUND_1 = sha256Hex(`review:${TASK_TOKEN}`).slice(0, 32);

  describe('review workflow task request_approval', () => {
    beforeEach(() => {
      plane.ddb.table.putConsumer(pendingConsumer({ openReviewId: undefined }));
      plane.ddb.table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
    });

    it('fails the task with Gatehouse.MailUnavailable when SES takes no email, so Step Functions retries it, and emails every reviewer when it runs again', async () => {
      const run = createReviewTaskHandler(plane.services);
      plane.ses.on(SendEmailCommand).rejectsOnce(sesThrottled()).rejectsOnce(sesThrottled()).resolves({ MessageId: 'message-2' });

      const failed = run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN });
      await expect(failed).rejects.toMatchObject({ name: 'Gatehouse.MailUnavailable', cause: { name: 'TooManyRequestsException' } });
      expect(plane.ddb.table.reviewItem(ROUND_1)).toMatchObject({ status: 'open', taskToken: TASK_TOKEN });

      await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: TASK_TOKEN })).resolves.toEqual({ status: 'review_round_1' });

      // The retried task reuses the stored round (one audit event) and sends every reviewer a link.
      const recipients = plane
        .sentEmails()
        .slice(2)
        .map((e) => e.Destination?.ToAddresses);
      expect(recipients).toEqual([[ALICE], [BOB]]);
      expect(plane.ddb.table.auditTrail(CLIENT_ID).filter((e) => e.type === 'consumer.review_requested')).toHaveLength(1);
    });
  });

  describe('review workflow task notify', () => {
    it('fails the task with Gatehouse.MailUnavailable (the SES error as its cause) and changes nothing', async () => {
      plane.ddb.table.putConsumer(consumerFixture({ status: 'active' }));
      plane.ses.on(SendEmailCommand).rejects(sesThrottled());
      const before = plane.state();

      await expect(createReviewTaskHandler(plane.services)({ action: 'notify', clientId: CLIENT_ID })).rejects.toMatchObject({
        name: 'Gatehouse.MailUnavailable',
        cause: { name: 'TooManyRequestsException' },
      });
      expect(plane.state()).toBe(before);
    });
  });
});

describe('fault plane', () => {
  it('builds the real AWS adapters over working fakes: register, token and read succeed with no fault injected', async () => {
    const registered = await register(publicRegistration());
    expect(registered.statusCode).toBe(201);
    const { client_id: clientId, client_secret: secret, registration_access_token: rat } = bodyOf(registered) as Record<string, string>;

    const issued = await call(
      createTokenHandler(plane.services),
      httpEvent({
        method: 'POST',
        resource: '/oauth2/token',
        headers: { ...FORM, authorization: basic(clientId!, secret!) },
        body: 'grant_type=client_credentials',
      }),
    );
    const read = await call(
      createRegistrationReadHandler(plane.services),
      httpEvent({ method: 'GET', resource: '/register/{client_id}', pathParameters: { client_id: clientId! }, headers: { authorization: `Bearer ${rat}` } }),
    );

    expect(issued.statusCode).toBe(200);
    expect(read.statusCode).toBe(200);
    expect(bodyOf(read)['client_secret']).toBe(secret);
    expect(plane.ddb.table.consumerItem(clientId!)).toMatchObject({ secretHash: sha256B64u(secret!) });
    expect(
      verifyChain(
        plane.ddb.table
          .items(`CONSUMER#${clientId}`)
          .filter((i) => i['kind'] === 'audit')
          .map(auditOf),
      ),
    ).toEqual({ ok: true });
  });
});
