import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain, type AuditEvent } from '../../../lambdas/core/audit/event.js';
import { createReviewTaskHandler } from '../../../lambdas/handlers/review-task.js';
import { auditTrailFor, CLIENT_ID, consumerFixture, NOW } from '../fixtures.js';
import { buildServices, FakeTable } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);

describe('createReviewTaskHandler', () => {
  let table: FakeTable;
  let run: ReturnType<typeof createReviewTaskHandler>;

  const writes = () => ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
  const trail = (): AuditEvent[] =>
    table
      .items(`CONSUMER#${CLIENT_ID}`)
      .filter((i) => i['kind'] === 'audit')
      .sort((a, b) => String(a['sk']).localeCompare(String(b['sk'])))
      .map(({ pk: _pk, sk: _sk, kind: _kind, ...e }) => e as unknown as AuditEvent);

  beforeEach(() => {
    table = new FakeTable(ddb);
    run = createReviewTaskHandler(buildServices({ jwks: { keys: [] } }));
    table.putConsumer(consumerFixture({ status: 'pending_review', secretHash: undefined, secretExpiresAt: undefined, risk: 'medium' }));
    table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
  });

  afterEach(() => {
    ddb.reset();
  });

  it('keeps the task token server-side and audits the approval request', async () => {
    await expect(run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: 'sfn-task-token' })).resolves.toEqual({ status: 'pending_review' });

    expect(writes()).toHaveLength(1);
    expect(writes()[0]![1]!.Put!.Item).toMatchObject({ type: 'consumer.review_requested', data: {} });
    expect(JSON.stringify(writes()[0]![1]!.Put!.Item)).not.toContain('sfn-task-token');
    expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'pending_review', reviewTaskToken: 'sfn-task-token' });
  });

  it('activates an approved consumer, drops the task token, and is idempotent on retry', async () => {
    await run({ action: 'request_approval', clientId: CLIENT_ID, taskToken: 'sfn-task-token' });

    await expect(run({ action: 'activate', clientId: CLIENT_ID })).resolves.toEqual({ status: 'active' });
    await expect(run({ action: 'activate', clientId: CLIENT_ID })).resolves.toEqual({ status: 'active' });

    expect(writes()).toHaveLength(2);
    expect(writes()[1]![0]!.Update!.UpdateExpression).toMatch(/ REMOVE #f0$/);
    expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status: 'active' });
    expect(table.consumerItem(CLIENT_ID)).not.toHaveProperty('reviewTaskToken');
    expect(trail().map((e) => e.type)).toEqual(['consumer.requested', 'consumer.evaluated', 'consumer.review_requested', 'consumer.activated']);
    expect(verifyChain(trail())).toEqual({ ok: true });
  });

  it.each([
    [{ action: 'deny', clientId: CLIENT_ID, cause: 'no business need' }, 'denied', 'consumer.denied', { cause: 'no business need' }],
    [{ action: 'expire', clientId: CLIENT_ID }, 'expired', 'consumer.expired', { reason: 'review_sla_elapsed' }],
    [{ action: 'fail', clientId: CLIENT_ID, error: { Error: 'States.Timeout' } }, 'failed', 'consumer.review_failed', { error: '{"Error":"States.Timeout"}' }],
  ])('closes the request: %j', async (task, status, type, data) => {
    await expect(run(task)).resolves.toEqual({ status });

    expect(table.consumerItem(CLIENT_ID)).toMatchObject({ status });
    expect(trail().at(-1)).toMatchObject({ type, data, actor: { kind: 'system', id: 'review-workflow' } });
    expect(verifyChain(trail())).toEqual({ ok: true });
  });

  it('truncates a huge workflow error in the audit trail', async () => {
    await run({ action: 'fail', clientId: CLIENT_ID, error: 'x'.repeat(5000) });

    expect(String(trail().at(-1)!.data['error'])).toHaveLength(1000);
  });

  it('refuses to activate a denied consumer and writes nothing more', async () => {
    await run({ action: 'deny', clientId: CLIENT_ID });
    ddb.resetHistory();

    await expect(run({ action: 'activate', clientId: CLIENT_ID })).rejects.toMatchObject({ name: 'ServiceError', code: 'conflict' });
    expect(writes()).toHaveLength(0);
  });

  it('refuses a payload it does not know, sending nothing', async () => {
    await expect(run({ action: 'approve_everything', clientId: CLIENT_ID })).rejects.toThrow();
    await expect(run({ action: 'activate' })).rejects.toThrow();
    expect(ddb.calls()).toHaveLength(0);
  });
});
