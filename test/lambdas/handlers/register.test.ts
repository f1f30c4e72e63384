import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SfnWorkflow } from '../../../lambdas/adapters/aws/sfn-workflow.js';
import { FileClientSecrets } from '../../../lambdas/adapters/local/file-client-secrets.js';
import { verifyChain, type AuditEvent } from '../../../lambdas/core/audit/event.js';
import { STAGES, type Workflow } from '../../../lambdas/core/ports.js';
import { parseClientSecretValue } from '../../../lambdas/core/rotation/client-secret-rotation.js';
import { sha256B64u } from '../../../lambdas/core/util/hash.js';
import { createRegisterHandler } from '../../../lambdas/handlers/register.js';
import type { HttpLambda } from '../../../lambdas/handlers/http/http-handler.js';
import {
  AWS_TEST_CLIENT_CONFIG,
  DAY_MS,
  defaultPolicy,
  HOUR_MS,
  NOW,
  publicRegistration,
  REGISTRATION_EXPIRES_AT,
  reviewRegistration,
  TestClock,
} from '../fixtures.js';
import { bodyOf, buildServices, FakeTable, fakeWorkflow, httpEvent, ISSUER, lambdaContext, statementSigner, TABLE, type StatementSigner } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-onboarding';
const IDEMPOTENCY_KEY = 'c0ffee00-1111-4222-8333-444455556666';

let signer: StatementSigner;
let otherKey: CryptoKey;
let clientJwk: JWK;

beforeAll(async () => {
  signer = await statementSigner();
  otherKey = (await generateKeyPair('ES256')).privateKey;
  clientJwk = { ...(await exportJWK((await generateKeyPair('ES256')).publicKey)), kid: 'client-key-1' };
});

/** A partner request for medium-risk data, which the default policy sends to one reviewer. */
async function reviewRequest(overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return reviewRegistration(clientJwk, await signer.sign({ software_id: 'treasury-sync', tier: 'partner', org_name: 'Partner Ltd' }), overrides);
}

const transactions = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
/** Every command sent to DynamoDB, serialised: where a leaked secret would show up. */
const everythingSent = () => JSON.stringify(ddb.calls().map((c) => c.args[0].input));

function expectNothingWritten(): void {
  const writes = ddb.calls().filter((c) => !(c.args[0] instanceof GetCommand || c.args[0] instanceof QueryCommand));
  expect(writes).toHaveLength(0);
}

const auditOf = (item: Record<string, unknown>): AuditEvent => {
  const { pk: _pk, sk: _sk, kind: _kind, ...event } = item;
  return event as unknown as AuditEvent;
};

describe('createRegisterHandler', () => {
  let table: FakeTable;
  let clock: TestClock;
  let services: ReturnType<typeof buildServices>;
  let handler: HttpLambda;
  let store: FileClientSecrets;

  const setUp = (workflow?: Workflow) => {
    services = buildServices({ jwks: signer.jwks, clock, clientSecrets: store, ...(workflow ? { workflow } : {}) });
    handler = createRegisterHandler(services);
  };

  const post = (body: unknown, headers: Record<string, string> = {}): Promise<APIGatewayProxyResult> =>
    handler(
      httpEvent({
        method: 'POST',
        resource: '/register',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
      lambdaContext,
    );

  beforeEach(() => {
    table = new FakeTable(ddb);
    clock = new TestClock();
    store = new FileClientSecrets();
    setUp();
  });

  afterEach(() => {
    ddb.reset();
    sfn.reset();
    vi.restoreAllMocks();
  });

  describe('auto-approved request', () => {
    it('answers 201 with the client credentials and a registration access token', async () => {
      const response = await post(publicRegistration());

      expect(response.statusCode).toBe(201);
      const body = bodyOf(response);
      expect(body).toMatchObject({
        client_id: expect.stringMatching(/^gh_[A-Za-z0-9_-]{16}$/),
        client_secret: expect.any(String),
        client_secret_expires_at: Math.floor(Date.parse(REGISTRATION_EXPIRES_AT) / 1000),
        registration_access_token: expect.any(String),
        scope: 'reference-data:read',
        status: 'active',
        risk: 'low',
        tier: 'public',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        policy_version: defaultPolicy.version,
        access_token_ttl: 3600,
        approvals_required: 0,
        reasons: [expect.objectContaining({ code: 'low_risk_self_service' })],
      });
      expect(body['registration_client_uri']).toBe(`${ISSUER}/register/${String(body['client_id'])}`);
      expect(response.headers).toMatchObject({
        location: body['registration_client_uri'],
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      expect(response.headers).not.toHaveProperty('idempotent-replayed');
    });

    it('writes the consumer and its audit trail in one transaction, storing only hashes of the secrets', async () => {
      const body = bodyOf(await post(publicRegistration()));
      const clientId = String(body['client_id']);

      const [items, ...more] = transactions();
      expect(more).toHaveLength(0);
      expect(items).toHaveLength(5);

      const put = items![0]!.Put!;
      expect(put.TableName).toBe(TABLE);
      expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
      expect(put.Item).toMatchObject({
        pk: `CONSUMER#${clientId}`,
        sk: 'CONSUMER',
        kind: 'consumer',
        clientId,
        status: 'active',
        secretHash: sha256B64u(String(body['client_secret'])),
        registrationTokenHash: sha256B64u(String(body['registration_access_token'])),
        createdAt: NOW.toISOString(),
        auditSeq: 4,
      });

      const audit = items!.slice(1).map((i) => auditOf(i.Put!.Item!));
      expect(audit.map((e) => e.type)).toEqual(['consumer.requested', 'consumer.evaluated', 'consumer.activated', 'credentials.issued']);
      expect(items!.slice(1).every((i) => i.Put!.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);
      expect(verifyChain(audit)).toEqual({ ok: true });
      expect(put.Item!['auditHead']).toBe(audit.at(-1)!.hash);

      expect(everythingSent()).not.toContain(String(body['client_secret']));
      expect(everythingSent()).not.toContain(String(body['registration_access_token']));
      expect(services.workflow.startReview).not.toHaveBeenCalled();
    });

    it('accepts a media type with parameters', async () => {
      const response = await post(publicRegistration(), { 'Content-Type': 'application/json; charset=utf-8' });

      expect(response.statusCode).toBe(201);
    });

    it('accepts a partner with a valid software statement and records its software_id', async () => {
      const statement = await signer.sign({ software_id: 'fx-widget', tier: 'partner', scope: 'reference-data:read' });

      const response = await post(publicRegistration({ tier: undefined, software_statement: statement }));

      expect(response.statusCode).toBe(201);
      expect(bodyOf(response)).toMatchObject({ tier: 'partner', software_id: 'fx-widget' });
      expect(transactions()[0]![0]!.Put!.Item).toMatchObject({ tier: 'partner', softwareId: 'fx-widget' });
      expect(transactions()[0]![0]!.Put!.Item!['organisation']).toBeUndefined();
      expect(transactions()[0]![1]!.Put!.Item).toMatchObject({
        type: 'consumer.requested',
        data: { softwareId: 'fx-widget', softwareStatementVerified: true },
      });
    });
  });

  describe('client secret store', () => {
    const storedValue = async (clientId: string) => parseClientSecretValue(await store.staged(clientId).read({ stage: STAGES.current }));
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });

    it('stores exactly the secret it returns before writing the consumer, rotated every secretRotationDays of the low risk', async () => {
      let consumersWhenStored: number | undefined;
      const create = vi.spyOn(store, 'create').mockImplementation(async (...args) => {
        consumersWhenStored = table.items('CONSUMER#').length;
        return FileClientSecrets.prototype.create.apply(store, args);
      });

      const body = bodyOf(await post(publicRegistration()));
      const clientId = String(body['client_id']);

      expect(create).toHaveBeenCalledOnce();
      expect(create).toHaveBeenCalledWith({ clientId, clientSecret: body['client_secret'] }, defaultPolicy.document.risks.low.secretRotationDays);
      expect(defaultPolicy.document.risks.low.secretRotationDays).toBe(90);
      expect(consumersWhenStored).toBe(0);
      expect(store.clientIds()).toEqual([clientId]);
      await expect(storedValue(clientId)).resolves.toStrictEqual({ clientId, clientSecret: body['client_secret'] });
      expect(await store.staged(clientId).versions()).toHaveLength(1);
      expect(table.consumerItem(clientId)).toMatchObject({ secretHash: sha256B64u(String(body['client_secret'])) });
    });

    it('answers 503 problem JSON with Retry-After and writes nothing when the secret cannot be stored', async () => {
      vi.spyOn(store, 'create').mockRejectedValue(throttled());

      const response = await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY });

      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'retry-after': '30', 'content-type': 'application/problem+json' });
      expect(bodyOf(response)).toMatchObject({
        type: 'https://gatehouse.dev/problems/service-unavailable',
        status: 503,
        detail: expect.stringContaining('nothing was registered'),
      });
      expect(response.body).not.toContain('client_secret');
      expect(response.body).not.toContain('registration_access_token');
      expectNothingWritten();
      expect(table.items()).toHaveLength(0);
      expect(store.clientIds()).toEqual([]);
      expect(services.log.error).toHaveBeenCalledWith('client secret not stored', { clientId: expect.stringMatching(/^gh_/), error: 'ThrottlingException' });
    });

    it('lets a retry with the same Idempotency-Key register afresh after the store failed', async () => {
      vi.spyOn(store, 'create').mockRejectedValueOnce(throttled());
      await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY });

      const retried = await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY });

      expect(retried.statusCode).toBe(201);
      expect(retried.headers).not.toHaveProperty('idempotent-replayed');
      expect(store.clientIds()).toEqual([bodyOf(retried)['client_id']]);
    });

    it('removes the stored secret when the consumer cannot be written', async () => {
      const create = vi.spyOn(store, 'create');
      const remove = vi.spyOn(store, 'remove');
      ddb.on(TransactWriteCommand).rejects(new Error('ProvisionedThroughputExceeded'));

      const response = await post(publicRegistration());

      expect(response.statusCode).toBe(503);
      const clientId = create.mock.calls[0]![0].clientId;
      expect(remove).toHaveBeenCalledExactlyOnceWith(clientId);
      expect(store.clientIds()).toEqual([]);
      expect(table.items()).toHaveLength(0);
    });

    it('still answers 503 for the registry when the unused secret cannot be removed, and logs the leftover', async () => {
      const create = vi.spyOn(store, 'create');
      vi.spyOn(store, 'remove').mockRejectedValue(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
      ddb.on(TransactWriteCommand).rejects(new Error('ProvisionedThroughputExceeded'));

      const response = await post(publicRegistration());

      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'retry-after': '5' });
      expect(services.log.error).toHaveBeenCalledWith('could not remove an unused client secret', {
        clientId: create.mock.calls[0]![0].clientId,
        error: 'AccessDeniedException',
      });
    });

    it('keeps one secret for one consumer when a concurrent duplicate loses the race', async () => {
      const remove = vi.spyOn(store, 'remove');

      const [a, b] = await Promise.all([
        post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY }),
        post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY }),
      ]);

      const winner = String(bodyOf(a)['client_id']);
      expect(bodyOf(b)['client_id']).toBe(winner);
      expect(store.clientIds()).toEqual([winner]);
      expect(remove).toHaveBeenCalledOnce();
      expect(remove.mock.calls[0]![0]).not.toBe(winner);
      await expect(storedValue(winner)).resolves.toMatchObject({ clientSecret: bodyOf(a)['client_secret'] });
    });

    it('stores no secret for a key-bound client', async () => {
      const create = vi.spyOn(store, 'create');

      const response = await post(publicRegistration({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] } }));

      expect(response.statusCode).toBe(201);
      expect(bodyOf(response)).not.toHaveProperty('client_secret');
      expect(create).not.toHaveBeenCalled();
      expect(store.clientIds()).toEqual([]);
    });

    it('stores no secret for a request that needs review', async () => {
      const create = vi.spyOn(store, 'create');

      const response = await post(await reviewRequest());

      expect(response.statusCode).toBe(202);
      expect(create).not.toHaveBeenCalled();
      expect(store.clientIds()).toEqual([]);
    });
  });

  describe('request that needs review', () => {
    const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:gatehouse-onboarding:review-x';

    beforeEach(() => {
      setUp(new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) }));
    });

    it('answers 202 without a client secret and starts the review execution named after the consumer', async () => {
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: NOW });

      const response = await post(await reviewRequest());

      expect(response.statusCode).toBe(202);
      const body = bodyOf(response);
      const clientId = String(body['client_id']);
      expect(body).toMatchObject({
        status: 'pending_review',
        risk: 'medium',
        tier: 'partner',
        software_id: 'treasury-sync',
        approvals_required: 1,
        token_endpoint_auth_method: 'private_key_jwt',
        registration_access_token: expect.any(String),
        reasons: [expect.objectContaining({ code: 'risk_requires_review', subject: 'medium' })],
      });
      expect(body).not.toHaveProperty('client_secret');
      expect(response.headers).toMatchObject({ location: `${ISSUER}/register/${clientId}` });

      const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
      expect(starts).toHaveLength(1);
      expect(starts[0]).toMatchObject({ stateMachineArn: STATE_MACHINE_ARN, name: `review-${clientId}` });
      expect(JSON.parse(starts[0]!.input!)).toEqual({ clientId, requestId: null, risk: 'medium', approvals: 1, reviewSlaSeconds: 72 * 3600 });
    });

    it('stores the organisation the software statement names, for reviewers to see', async () => {
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: NOW });

      const clientId = String(bodyOf(await post(await reviewRequest()))['client_id']);

      expect(table.consumerItem(clientId)).toMatchObject({ organisation: 'Partner Ltd', softwareId: 'treasury-sync' });
    });

    it('stores the request pending review, then records review_started with the execution in a second transaction', async () => {
      sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ARN, startDate: NOW });

      const clientId = String(bodyOf(await post(await reviewRequest()))['client_id']);

      const [create, started, ...more] = transactions();
      expect(more).toHaveLength(0);
      expect(create).toHaveLength(3);
      expect(create![0]!.Put!.Item).toMatchObject({ clientId, status: 'pending_review', auditSeq: 2 });
      expect(create![0]!.Put!.Item!['secretHash']).toBeUndefined();
      expect(create!.slice(1).map((i) => i.Put!.Item!['type'])).toEqual(['consumer.requested', 'consumer.evaluated']);

      expect(started).toHaveLength(2);
      expect(started![0]!.Update).toMatchObject({
        Key: { pk: `CONSUMER#${clientId}`, sk: 'CONSUMER' },
        ExpressionAttributeValues: expect.objectContaining({ ':expectSeq': 2, ':s0': 'pending_review', ':seq': 3 }),
      });
      expect(started![1]!.Put!.Item).toMatchObject({
        sk: 'AUDIT#0000000003',
        type: 'consumer.review_started',
        data: { execution: EXECUTION_ARN, approvalsRequired: 1 },
      });

      expect(table.consumerItem(clientId)).toMatchObject({ status: 'pending_review', reviewExecution: EXECUTION_ARN, auditSeq: 3 });
      const trail = table
        .items(`CONSUMER#${clientId}`)
        .filter((i) => i['kind'] === 'audit')
        .map(auditOf);
      expect(verifyChain(trail)).toEqual({ ok: true });
    });

    it('answers 503 with Retry-After and closes the request as failed when the workflow cannot start', async () => {
      sfn.on(StartExecutionCommand).rejects(new Error('ServiceUnavailable'));

      const response = await post(await reviewRequest());

      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'retry-after': '30', 'content-type': 'application/problem+json' });
      expect(bodyOf(response)).toMatchObject({ type: 'https://gatehouse.dev/problems/service-unavailable', status: 503 });
      expect(response.body).not.toContain('registration_access_token');

      const consumers = table.items('CONSUMER#').filter((i) => i['kind'] === 'consumer');
      expect(consumers).toHaveLength(1);
      expect(consumers[0]).toMatchObject({ status: 'failed' });
      const trail = table
        .items(String(consumers[0]!['pk']))
        .filter((i) => i['kind'] === 'audit')
        .map(auditOf);
      expect(trail.map((e) => e.type)).toEqual(['consumer.requested', 'consumer.evaluated', 'consumer.review_failed']);
      expect(trail.at(-1)!.data).toEqual({ reason: 'workflow_start_failed' });
      expect(verifyChain(trail)).toEqual({ ok: true });
      expect(services.log.error).toHaveBeenCalledWith('review workflow did not start', expect.objectContaining({ error: 'Error' }));
    });
  });

  it('releases the stored response when the workflow cannot start, so a retry with the same key starts afresh', async () => {
    setUp(new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) }));
    sfn
      .on(StartExecutionCommand)
      .rejectsOnce(new Error('ServiceUnavailable'))
      .resolves({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:gatehouse-onboarding:review-y', startDate: new Date() });
    const request = await reviewRequest();

    const failed = await post(request, { 'Idempotency-Key': IDEMPOTENCY_KEY });
    expect(failed.statusCode).toBe(503);
    expect(table.items('IDEMPOTENCY#')).toHaveLength(0);

    const retried = await post(request, { 'Idempotency-Key': IDEMPOTENCY_KEY });
    expect(retried.statusCode).toBe(202);
    expect(retried.headers?.['idempotent-replayed']).toBeUndefined();
    expect(table.items('IDEMPOTENCY#')).toHaveLength(1);
    const statuses = table
      .items('CONSUMER#')
      .filter((i) => i['kind'] === 'consumer')
      .map((i) => i['status']);
    expect(statuses.sort()).toEqual(['failed', 'pending_review']);
  });

  describe('request the policy denies', () => {
    it.each([
      [
        'a public client asking for account data',
        () => publicRegistration({ scope: 'accounts:read', data_classes: ['confidential'] }),
        ['scope_not_allowed_for_tier', 'risk_exceeds_tier_maximum'],
      ],
      ['an unknown scope', () => publicRegistration({ scope: 'reference-data:read gold:mine' }), ['scope_unknown']],
      [
        'a grant longer than the risk allows',
        () => publicRegistration({ expires_at: new Date(NOW.getTime() + 400 * DAY_MS).toISOString() }),
        ['expiry_exceeds_maximum'],
      ],
      ['no expiry', () => publicRegistration({ expires_at: undefined }), ['expiry_missing']],
      ['a short purpose and no contacts', () => publicRegistration({ purpose: 'FX', contacts: [] }), ['purpose_missing', 'contacts_missing']],
      ['a partner without a software statement', () => publicRegistration({ tier: 'partner' }), ['software_statement_required']],
    ])('answers 403 with reasons and writes nothing for %s', async (_name, request, codes) => {
      const response = await post(request());

      expect(response.statusCode).toBe(403);
      const body = bodyOf(response);
      expect(body).toMatchObject({ error: 'access_denied', policy_version: defaultPolicy.version });
      const reasons = body['reasons'] as { code: string; message: string }[];
      expect(reasons.map((r) => r.code)).toEqual(expect.arrayContaining(codes));
      expect(reasons.every((r) => typeof r.message === 'string' && r.message.length > 0)).toBe(true);
      expect(ddb.calls()).toHaveLength(0);
      expect(services.log.warn).toHaveBeenCalledWith('registration denied', expect.objectContaining({ policyVersion: defaultPolicy.version }));
    });

    it('refuses scopes beyond what the software statement covers', async () => {
      const statement = await signer.sign({ software_id: 'fx-widget', tier: 'partner', scope: 'reference-data:read' });

      const response = await post(await reviewRequest({ software_statement: statement }));

      expect(response.statusCode).toBe(403);
      expect((bodyOf(response)['reasons'] as { code: string }[]).map((r) => r.code)).toContain('software_statement_scope_exceeded');
      expect(ddb.calls()).toHaveLength(0);
      expect(sfn.calls()).toHaveLength(0);
    });
  });

  describe('invalid client metadata', () => {
    it.each([
      ['client_name is missing', () => publicRegistration({ client_name: undefined }), 'client_name'],
      ['client_name is blank', () => publicRegistration({ client_name: '   ' }), 'client_name'],
      ['client_name is not a string', () => publicRegistration({ client_name: 42 }), 'client_name'],
      ['scope is not a string', () => publicRegistration({ scope: ['reference-data:read'] }), 'scope'],
      ['scope has an empty token', () => publicRegistration({ scope: 'reference-data:read  accounts:read' }), 'scope'],
      ['scope has a quote', () => publicRegistration({ scope: 'reference-data:read "x"' }), 'scope'],
      ['scope is missing', () => publicRegistration({ scope: undefined }), 'scope'],
      ['redirect_uris are given', () => publicRegistration({ redirect_uris: ['https://app.example/cb'] }), 'redirect_uris'],
      ['response_types are given', () => publicRegistration({ response_types: ['code'] }), 'response_types'],
      ['grant_types ask for another grant', () => publicRegistration({ grant_types: ['authorization_code'] }), 'grant_types.0'],
      ['data_classes is not an array', () => publicRegistration({ data_classes: 'public' }), 'data_classes'],
      ['a contact is not an email address', () => publicRegistration({ contacts: ['not-an-email'] }), 'contacts.0'],
      ['expires_at is not a date-time', () => publicRegistration({ expires_at: 'next year' }), 'expires_at'],
      ['tier is unknown', () => publicRegistration({ tier: 'gold' }), 'tier'],
      ['tier is missing', () => publicRegistration({ tier: undefined }), 'tier'],
      ['the auth method is unknown', () => publicRegistration({ token_endpoint_auth_method: 'none' }), 'token_endpoint_auth_method'],
      ['private_key_jwt comes without jwks', () => publicRegistration({ token_endpoint_auth_method: 'private_key_jwt' }), 'jwks'],
      ['jwks holds a private key', () => publicRegistration({ jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'secret' }] } }), 'jwks.keys.0'],
      ['jwks_uri is given to a secret-based client', () => publicRegistration({ jwks_uri: 'https://partner.example/jwks' }), 'jwks_uri'],
    ])('answers 400 invalid_client_metadata and writes nothing when %s', async (_name, request, field) => {
      const response = await post(request());

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response)).toMatchObject({ error: 'invalid_client_metadata', field, error_description: expect.any(String) });
      expectNothingWritten();
      expect(ddb.calls()).toHaveLength(0);
    });
  });

  describe('software statement', () => {
    const refused = async (response: APIGatewayProxyResult, code: string, field: string) => {
      expect(response.statusCode).toBe(400);
      expect(bodyOf(response)).toMatchObject({ error: code, field });
      expect(ddb.calls()).toHaveLength(0);
    };

    it('answers 400 invalid_software_statement for a bad signature', async () => {
      const forged = await signer.sign({ software_id: 'treasury-sync', tier: 'partner' }, { key: otherKey });

      await refused(await post(await reviewRequest({ software_statement: forged })), 'invalid_software_statement', 'software_statement');
    });

    it('answers 400 invalid_software_statement for a key the bank does not know', async () => {
      const unknown = await signer.sign({ software_id: 'treasury-sync', tier: 'partner' }, { key: otherKey, kid: 'someone-else' });

      await refused(await post(await reviewRequest({ software_statement: unknown })), 'invalid_software_statement', 'software_statement');
    });

    it('answers 400 invalid_software_statement for an expired statement', async () => {
      const expired = await signer.sign(
        { software_id: 'treasury-sync', tier: 'partner' },
        { issuedAt: new Date(NOW.getTime() - 10 * DAY_MS), expiresAt: new Date(NOW.getTime() - HOUR_MS) },
      );

      const response = await post(await reviewRequest({ software_statement: expired }));

      await refused(response, 'invalid_software_statement', 'software_statement');
      expect(bodyOf(response)['error_description']).toContain('expired');
    });

    it('answers 400 invalid_software_statement for a statement without exp', async () => {
      const endless = await signer.sign({ software_id: 'treasury-sync', tier: 'partner' }, { expiresAt: null });

      const response = await post(await reviewRequest({ software_statement: endless }));

      await refused(response, 'invalid_software_statement', 'software_statement');
      expect(bodyOf(response)['error_description']).toContain('"exp"');
    });

    it('answers 400 invalid_software_statement for a statement living longer than the policy allows', async () => {
      const yearLong = await signer.sign({ software_id: 'treasury-sync', tier: 'partner' }, { expiresAt: new Date(NOW.getTime() + 30 * DAY_MS + 1000) });

      const response = await post(await reviewRequest({ software_statement: yearLong }));

      await refused(response, 'invalid_software_statement', 'software_statement');
      expect(bodyOf(response)['error_description']).toContain('at most 30 days');
    });

    it('answers 400 invalid_software_statement for another issuer', async () => {
      const foreign = await signer.sign({ software_id: 'treasury-sync', tier: 'partner' }, { issuer: 'https://someone-else.test' });

      await refused(await post(await reviewRequest({ software_statement: foreign })), 'invalid_software_statement', 'software_statement');
    });

    it('answers 400 invalid_software_statement when the statement names no tier', async () => {
      const untiered = await signer.sign({ software_id: 'treasury-sync' });

      await refused(await post(await reviewRequest({ software_statement: untiered })), 'invalid_software_statement', 'software_statement');
    });

    it.each([
      ['not a JWT', 'not-a-jwt'],
      ['not a string', 12345],
    ])('answers 400 invalid_software_statement when it is %s', async (_name, statement) => {
      await refused(await post(await reviewRequest({ software_statement: statement })), 'invalid_software_statement', 'software_statement');
    });

    it('answers 400 unapproved_software_statement when the requested tier differs from the statement’s', async () => {
      const internal = await signer.sign({ software_id: 'treasury-sync', tier: 'internal' });

      await refused(await post(await reviewRequest({ software_statement: internal, tier: 'partner' })), 'unapproved_software_statement', 'tier');
    });

    it('answers 400 unapproved_software_statement when software_id differs from the statement’s', async () => {
      await refused(await post(await reviewRequest({ software_id: 'other-app' })), 'unapproved_software_statement', 'software_id');
    });
  });

  describe('transport errors', () => {
    const problemType = (response: APIGatewayProxyResult) => String(bodyOf(response)['type']).split('/').at(-1);
    /** RFC 7591 section 3.2.2: every refusal is { error, error_description } JSON, whatever stage refused it. */
    const expectRfc7591 = (response: APIGatewayProxyResult, status: number, description: RegExp) => {
      expect(response.statusCode).toBe(status);
      expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' });
      expect(bodyOf(response)).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(description) });
      expect(ddb.calls()).toHaveLength(0);
    };

    it('answers 415 invalid_client_metadata for a body that is not JSON', async () => {
      expectRfc7591(await post('client_name=x', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, /application\/json/);
    });

    it('answers 415 invalid_client_metadata when the content type is missing', async () => {
      const response = await handler(httpEvent({ method: 'POST', resource: '/register', body: JSON.stringify(publicRegistration()) }), lambdaContext);

      expectRfc7591(response, 415, /application\/json/);
    });

    it.each([
      ['malformed JSON', '{"client_name": "x",', /not valid JSON/],
      ['an empty body', '', /not valid JSON/],
      ['a JSON array', '[]', /JSON object/],
      ['JSON null', 'null', /JSON object/],
      ['a JSON string', '"hello"', /JSON object/],
      ['a JSON number', '42', /JSON object/],
    ])('answers 400 invalid_client_metadata for %s', async (_name, text, description) => {
      expectRfc7591(await post(text), 400, description);
    });

    it('answers 413 invalid_client_metadata for a body over maxBodyBytes', async () => {
      expectRfc7591(
        await post(publicRegistration({ purpose: 'x'.repeat(services.config.maxBodyBytes) })),
        413,
        new RegExp(`exceeds ${services.config.maxBodyBytes} bytes`),
      );
    });

    it('answers 503 with Retry-After when the registry cannot write', async () => {
      ddb.on(TransactWriteCommand).rejects(new Error('ProvisionedThroughputExceeded'));

      const response = await post(publicRegistration());

      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ 'retry-after': '5' });
      expect(problemType(response)).toBe('service-unavailable');
      expect(response.body).not.toContain('client_secret');
      expect(table.items()).toHaveLength(0);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first response, marked idempotent-replayed, without writing again', async () => {
      const first = await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY });
      const second = await post(publicRegistration(), { 'idempotency-key': IDEMPOTENCY_KEY });

      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(bodyOf(second)).toEqual(bodyOf(first));
      expect(second.headers).toMatchObject({ 'idempotent-replayed': 'true', location: bodyOf(first)['registration_client_uri'] });
      expect(first.headers).not.toHaveProperty('idempotent-replayed');

      const [items, ...more] = transactions();
      expect(more).toHaveLength(0);
      expect(items).toHaveLength(6);
      expect(items![5]!.Put!.Item).toMatchObject({ kind: 'idempotency', statusCode: 201, ttl: Math.floor(NOW.getTime() / 1000) + 86_400 });
      // The stored response is sealed: neither the key nor the secret is readable in what was sent.
      expect(everythingSent()).not.toContain(IDEMPOTENCY_KEY);
      expect(everythingSent()).not.toContain(String(bodyOf(first)['client_secret']));
      expect(table.items('CONSUMER#').filter((i) => i['kind'] === 'consumer')).toHaveLength(1);
    });

    it('answers 422 idempotency_key_reused and writes nothing when the key comes with another request', async () => {
      await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY });
      ddb.resetHistory();

      const response = await post(publicRegistration({ client_name: 'Another app' }), { 'Idempotency-Key': IDEMPOTENCY_KEY });

      expect(response.statusCode).toBe(422);
      expect(bodyOf(response)).toMatchObject({ error: 'idempotency_key_reused' });
      expectNothingWritten();
    });

    it.each([
      ['too short', 'abc'],
      ['made of forbidden characters', 'this key has spaces in it!'],
      ['too long', 'k'.repeat(256)],
    ])('answers 400 idempotency_key_invalid and sends nothing for a key that is %s', async (_name, key) => {
      const response = await post(publicRegistration(), { 'Idempotency-Key': key });

      expect(response.statusCode).toBe(400);
      expect(bodyOf(response)).toMatchObject({ error: 'idempotency_key_invalid' });
      expect(ddb.calls()).toHaveLength(0);
    });

    it('treats a record past its TTL as absent and replaces it', async () => {
      const first = bodyOf(await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY }));
      clock.advance(25 * HOUR_MS);

      const response = await post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY });

      expect(response.statusCode).toBe(201);
      expect(response.headers).not.toHaveProperty('idempotent-replayed');
      expect(bodyOf(response)['client_id']).not.toBe(first['client_id']);
      expect(transactions()).toHaveLength(2);
      expect(table.items('IDEMPOTENCY#')).toHaveLength(1);
      expect(table.items('IDEMPOTENCY#')[0]).toMatchObject({ createdAt: clock.now().toISOString() });
    });

    it('answers a concurrent duplicate with the winner’s response, creating one consumer', async () => {
      const [a, b] = await Promise.all([
        post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY }),
        post(publicRegistration(), { 'Idempotency-Key': IDEMPOTENCY_KEY }),
      ]);

      expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
      expect(bodyOf(a)).toEqual(bodyOf(b));
      expect([a.headers?.['idempotent-replayed'], b.headers?.['idempotent-replayed']].filter(Boolean)).toEqual(['true']);
      expect(table.items('CONSUMER#').filter((i) => i['kind'] === 'consumer')).toHaveLength(1);
    });

    // The idempotency record is written with the consumer, so the loser of the race replays the winner's response.
    it('answers a concurrent duplicate review request with the winner’s response, starting one execution', async () => {
      const workflow = fakeWorkflow();
      setUp(workflow);
      const request = await reviewRequest();

      const [a, b] = await Promise.all([post(request, { 'Idempotency-Key': IDEMPOTENCY_KEY }), post(request, { 'Idempotency-Key': IDEMPOTENCY_KEY })]);

      expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
      expect(bodyOf(a)).toEqual(bodyOf(b));
      expect(workflow.startReview).toHaveBeenCalledTimes(1);
      expect(table.items('CONSUMER#').filter((i) => i['kind'] === 'consumer')).toHaveLength(1);
    });

    it('replays a review response (202) without starting a second execution', async () => {
      const workflow = fakeWorkflow();
      setUp(workflow);
      const request = await reviewRequest();

      const first = await post(request, { 'Idempotency-Key': IDEMPOTENCY_KEY });
      const second = await post(request, { 'Idempotency-Key': IDEMPOTENCY_KEY });

      expect(first.statusCode).toBe(202);
      expect(second.statusCode).toBe(202);
      expect(bodyOf(second)).toEqual(bodyOf(first));
      expect(second.headers).toMatchObject({ 'idempotent-replayed': 'true' });
      expect(workflow.startReview).toHaveBeenCalledTimes(1);
      expect(transactions()).toHaveLength(2);
      // The stored response goes in the transaction that creates the consumer, not after the workflow started.
      expect(transactions()[0]!.at(-1)!.Put!.Item).toMatchObject({ kind: 'idempotency', statusCode: 202 });
    });
  });
});
