import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { OUTCOME_UNKNOWN } from '../../../lambdas/handlers/http/to-response.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTROSPECT_SCOPE } from '../../../lambdas/core/oauth/introspect.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import { createIntrospectionHandler } from '../../../lambdas/handlers/introspection.js';
import { createRegisterHandler } from '../../../lambdas/handlers/register.js';
import { createTokenHandler } from '../../../lambdas/handlers/token.js';
import { ALICE, REVIEW_ID } from '../core/review/fixtures.js';
import { auditTrailFor, CLIENT_ID, CLIENT_SECRET, consumerFixture, NOW, publicRegistration } from '../fixtures.js';
import { bodyOf, httpEvent, lambdaContext } from '../handlers/fixtures.js';
import {
  DYNAMO_FAULT_NAMES,
  DYNAMO_FAULTS,
  expectUnavailable,
  faultPlane,
  openApproval,
  operatorSuspension,
  transactionThrottled,
  type DocumentCommandName,
  type FaultPlane,
} from './fault-plane.js';

/**
 * DynamoDB throttling, overload, timeouts and broken sockets, after the SDK's own retries, on the reads and writes of each
 * route: a 503 with Retry-After in the route's format, and not one item or secret written.
 */
const RESOURCE_SERVER = 'gh_resourceserver000';
const RS_SECRET = 'resource-server-secret-that-is-long-enough';
const IDEMPOTENCY_KEY = 'c0ffee00-1111-4222-8333-444455556666';

/** The OAuth endpoints answer an outage in their own format: RFC 6749-style `temporarily_unavailable`. */
const OAUTH_OUTAGE_FORMAT = 'oauth';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const hasKey = (pkPrefix: string) => (input: Record<string, unknown>) => String((input['Key'] as { pk?: string } | undefined)?.pk ?? '').startsWith(pkPrefix);

let plane: FaultPlane;
let before: string;

const call = (handler: HttpLambda, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => handler(event, lambdaContext);

/** Injects `fault` into every `command` (or those `when` selects), runs the request, and checks the outage answer. */
async function expectRefusedUnchanged(
  command: DocumentCommandName,
  fault: () => Error,
  request: () => Promise<APIGatewayProxyResult>,
  format: 'problem' | 'oauth',
  when?: (input: Record<string, unknown>) => boolean,
): Promise<APIGatewayProxyResult> {
  plane.ddb.fail(command, fault, when ? { when } : {});
  before = plane.state();
  const response = await request();
  expectUnavailable(response, format, '5');
  expect(plane.state()).toBe(before);
  expect(plane.ddb.sent()).toContain(command);
  return response;
}

beforeEach(async () => {
  plane = await faultPlane();
});

afterEach(() => {
  plane.ddb.stub.reset();
});

describe('DynamoDB faults, after the SDK retries', () => {
  describe('POST /register', () => {
    const body = () => JSON.stringify(publicRegistration());
    const register = () =>
      call(
        createRegisterHandler(plane.services),
        httpEvent({ method: 'POST', resource: '/register', headers: { 'content-type': 'application/json', 'idempotency-key': IDEMPOTENCY_KEY }, body: body() }),
      );

    it.each(DYNAMO_FAULT_NAMES)('answers 503 and stores no secret when the idempotency read fails (%s)', async (name) => {
      await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], register, 'problem');
      expect(plane.clientSecrets.stub.calls()).toHaveLength(0);
    });

    const UNCONFIRMED: readonly string[] = ['TimeoutError', 'ECONNRESET'];
    const REFUSED = DYNAMO_FAULT_NAMES.filter((name) => !UNCONFIRMED.includes(name));

    it.each(REFUSED)('answers 503, writes nothing and deletes the secret it created when the transaction is refused (%s)', async (name) => {
      const response = await expectRefusedUnchanged('TransactWriteCommand', DYNAMO_FAULTS[name], register, 'problem');
      expect(bodyOf(response)['detail']).toContain('nothing was changed');
      expect(plane.clientSecrets.stub.calls().map((c) => (c.args[0] as object).constructor.name)).toEqual([
        'CreateSecretCommand',
        'RotateSecretCommand',
        'DeleteSecretCommand',
      ]);
    });

    it.each(UNCONFIRMED)(
      'answers 503 saying the outcome is unknown, and keeps the secret, when the transaction was sent but never confirmed (%s)',
      async (name) => {
        plane.ddb.fail('TransactWriteCommand', DYNAMO_FAULTS[name as keyof typeof DYNAMO_FAULTS]);
        const response = await register();
        expectUnavailable(response, 'problem', '5');
        expect(bodyOf(response)['detail']).toBe(OUTCOME_UNKNOWN);
        expect(bodyOf(response)['detail']).not.toContain('nothing was changed');
        // The write may have applied: deleting the secret could leave a consumer unable to authenticate.
        expect(plane.clientSecrets.stub.calls().map((c) => (c.args[0] as object).constructor.name)).toEqual(['CreateSecretCommand', 'RotateSecretCommand']);
      },
    );

    it('answers 503, not 409, when the transaction is cancelled for throttling rather than a failed condition', async () => {
      const response = await expectRefusedUnchanged('TransactWriteCommand', () => transactionThrottled(4), register, 'problem');
      expect(bodyOf(response)['detail']).toContain('nothing was changed');
    });

    it('registers on the retry once the table is back, with the same Idempotency-Key', async () => {
      plane.ddb.fail('TransactWriteCommand', DYNAMO_FAULTS.ProvisionedThroughputExceededException);
      expectUnavailable(await register(), 'problem');
      plane.ddb.heal();

      const retried = await register();

      expect(retried.statusCode).toBe(201);
      expect(plane.ddb.table.items('CONSUMER#').filter((i) => i['kind'] === 'consumer')).toHaveLength(1);
      expect([...plane.clientSecrets.secrets.keys()]).toEqual([expect.stringContaining(String(bodyOf(retried)['client_id']))]);
    });
  });

  describe('POST /oauth2/token', () => {
    const token = () =>
      call(
        createTokenHandler(plane.services),
        httpEvent({
          method: 'POST',
          resource: '/oauth2/token',
          headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
          body: 'grant_type=client_credentials',
        }),
      );

    beforeEach(() => plane.ddb.table.putConsumer(consumerFixture()));

    it.each(DYNAMO_FAULT_NAMES)('answers 503 when the client cannot be read (%s)', async (name) => {
      await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], token, OAUTH_OUTAGE_FORMAT);
      expect(plane.vaultSm.calls()).toHaveLength(0);
    });

    it.each(DYNAMO_FAULT_NAMES)('still issues the token when only the dormancy bookkeeping write fails (%s)', async (name) => {
      plane.ddb.fail('UpdateCommand', DYNAMO_FAULTS[name]);
      before = plane.state();

      const response = await token();

      expect(response.statusCode).toBe(200);
      expect(bodyOf(response)).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
      expect(plane.state()).toBe(before);
      expect(plane.services.log.warn).toHaveBeenCalledWith('could not record use', { clientId: CLIENT_ID, error: 'RegistryError' });
    });
  });

  describe('POST /oauth2/introspect', () => {
    let accessToken: string;
    const introspect = () =>
      call(
        createIntrospectionHandler(plane.services),
        httpEvent({
          method: 'POST',
          resource: '/oauth2/introspect',
          headers: { ...FORM, authorization: basic(RESOURCE_SERVER, RS_SECRET) },
          body: new URLSearchParams({ token: accessToken }).toString(),
        }),
      );

    beforeEach(async () => {
      plane.ddb.table.putConsumer(consumerFixture({ lastUsedAt: NOW.toISOString() }));
      plane.ddb.table.putConsumer(
        consumerFixture({ clientId: RESOURCE_SERVER, tier: 'internal', scopes: [INTROSPECT_SCOPE], secretHash: sha256B64u(RS_SECRET) }),
      );
      const issued = await call(
        createTokenHandler(plane.services),
        httpEvent({
          method: 'POST',
          resource: '/oauth2/token',
          headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
          body: 'grant_type=client_credentials',
        }),
      );
      accessToken = String(bodyOf(issued)['access_token']);
      expect(bodyOf(await introspect())).toMatchObject({ active: true });
      plane.ddb.stub.resetHistory();
    });

    it.each(DYNAMO_FAULT_NAMES)('answers 503, never active:false, when the revocation marker cannot be read (%s)', async (name) => {
      const response = await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], introspect, OAUTH_OUTAGE_FORMAT, hasKey('MARKER#'));
      expect(response.body).not.toContain('"active"');
    });

    it.each(DYNAMO_FAULT_NAMES)('answers 503 when the calling resource server cannot be read (%s)', async (name) => {
      await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], introspect, OAUTH_OUTAGE_FORMAT, hasKey(`CONSUMER#${RESOURCE_SERVER}`));
    });

    it.each(DYNAMO_FAULT_NAMES)("answers 503 when the token's consumer cannot be read (%s)", async (name) => {
      await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], introspect, OAUTH_OUTAGE_FORMAT, hasKey(`CONSUMER#${CLIENT_ID}`));
    });
  });

  describe('POST /reviews/{review_id} (a decision)', () => {
    let decide: () => Promise<APIGatewayProxyResult>;

    beforeEach(async () => {
      decide = await openApproval(plane);
      plane.ddb.stub.resetHistory();
      plane.vaultSm.resetHistory();
    });

    it.each(DYNAMO_FAULT_NAMES)('answers 503, keeps the round open and resumes no workflow when the decision cannot be written (%s)', async (name) => {
      await expectRefusedUnchanged('TransactWriteCommand', DYNAMO_FAULTS[name], decide, 'problem');
      expect(plane.sfn.calls()).toHaveLength(0);
    });

    it.each(DYNAMO_FAULT_NAMES)('answers 503 and records nothing when the round cannot be read (%s)', async (name) => {
      await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], decide, 'problem', hasKey('REVIEW#'));
      expect(plane.sfn.calls()).toHaveLength(0);
    });

    it('takes the same decision on a resubmit once the table is back', async () => {
      plane.ddb.fail('TransactWriteCommand', () => transactionThrottled(3));
      expectUnavailable(await decide(), 'problem');
      plane.ddb.heal();

      const response = await decide();

      expect(response.statusCode).toBe(200);
      expect(plane.ddb.table.reviewItem(REVIEW_ID)).toMatchObject({ status: 'approved', decidedBy: ALICE });
      expect(plane.sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
    });
  });

  describe('POST /admin/consumers/{client_id}/suspend', () => {
    const suspend = () => operatorSuspension(plane)();

    beforeEach(() => {
      plane.ddb.table.putConsumer(consumerFixture());
      plane.ddb.table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
    });

    it.each(DYNAMO_FAULT_NAMES)('answers 503 and leaves the consumer active when it cannot be read (%s)', async (name) => {
      await expectRefusedUnchanged('GetCommand', DYNAMO_FAULTS[name], suspend, 'problem');
      expect(plane.sentEmails()).toHaveLength(0);
    });

    it.each(DYNAMO_FAULT_NAMES)('answers 503, leaves the consumer active and sends no notice when the change cannot be written (%s)', async (name) => {
      await expectRefusedUnchanged('TransactWriteCommand', DYNAMO_FAULTS[name], suspend, 'problem');
      expect(plane.ddb.table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'active' });
      expect(plane.sentEmails()).toHaveLength(0);
    });
  });
});
