import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SfnWorkflow } from '../../../lambdas/adapters/aws/sfn-workflow.js';
import { STALLED_REVIEW_MS } from '../../../lambdas/core/lifecycle/attention.js';
import type { AttentionIndex, PolicyRollout, PolicyRolloutStore } from '../../../lambdas/core/ports.js';
import { createSweepHandler } from '../../../lambdas/handlers/sweep.js';
import { pendingConsumer } from '../core/review/fixtures.js';
import { auditTrailFor, AWS_TEST_CLIENT_CONFIG, CLIENT_ID, consumerFixture, DAY_MS, NOW, TestClock } from '../fixtures.js';
import { buildServices, FakeTable } from './fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

/** An attention index and rollout store in memory: `due` consumers, and a rollout already complete for the deployed policy. */
function index(options: {
  readonly due?: ReturnType<typeof consumerFixture>[];
  readonly fail?: Error;
  readonly rolloutVersion: string;
}): AttentionIndex & PolicyRolloutStore {
  const rollout: PolicyRollout = { version: options.rolloutVersion, startedAt: NOW.toISOString(), complete: true, reevaluated: 0, outOfPolicy: 0, revision: 1 };
  return {
    listDue: vi.fn(async () => {
      if (options.fail) throw options.fail;
      return { consumers: options.due ?? [] };
    }),
    rearm: vi.fn(async () => true),
    getPolicyRollout: vi.fn(async () => rollout),
    savePolicyRollout: vi.fn(async () => true),
  };
}

/** The services with `idx` as the sweep's attention index and rollout record. */
const withIndex = <S extends object>(services: S, idx: AttentionIndex & PolicyRolloutStore) => ({ ...services, attention: idx, rollouts: idx });

describe('createSweepHandler', () => {
  afterEach(() => {
    ddb.reset();
    sfn.reset();
  });

  it("records every count of the run, zeros included, and the policy rollout's", async () => {
    const services = buildServices({ jwks: { keys: [] } });
    // Due and used since: nothing to do but move its attention time.
    const due = [consumerFixture({ attentionAt: NOW.toISOString(), lastUsedAt: new Date(NOW.getTime() - DAY_MS).toISOString() })];

    const result = await createSweepHandler(withIndex(services, index({ due, rolloutVersion: services.policy.version })))({});

    expect(result).toMatchObject({ read: 1, failed: 0, complete: true });
    expect(Object.fromEntries(services.metrics.snapshot().map((m) => [m.name, [m.dimensions, m.sum, m.count]]))).toEqual({
      SweepReads: [{}, 1, 1],
      SweepRevoked: [{}, result.revoked, 1],
      SweepSuspended: [{}, result.suspended, 1],
      SweepWarned: [{}, result.warned, 1],
      SweepExceptionsEnded: [{}, result.exceptionsEnded, 1],
      SweepRequestsFailed: [{}, result.requestsFailed, 1],
      SweepFailed: [{}, 0, 1],
      RecertificationsDue: [{}, 0, 1],
      RecertificationOutcomes: [{ outcome: 'suspended_overdue' }, 0, 1],
      PolicyRolloutReevaluated: [{}, 0, 1],
      PolicyRolloutOutOfPolicy: [{}, 0, 1],
    });
  });

  it('counts consumers whose recertification fell due and those suspended because nobody attested in time', async () => {
    const table = new FakeTable(ddb);
    const linksSentAt = new Date(NOW.getTime() - 15 * DAY_MS).toISOString();
    const due = consumerFixture({ clientId: 'gh_recertificationDue', recertification: { dueAt: new Date(NOW.getTime() - DAY_MS).toISOString() } });
    const overdue = consumerFixture({
      clientId: 'gh_recertificationLate',
      recertification: { dueAt: linksSentAt, linksSentAt, links: [{ email: 'api-owner@partner.example', linkId: 'l1' }] },
    });
    for (const consumer of [due, overdue]) {
      table.putConsumer(consumer);
      table.putAudit(auditTrailFor(consumer.clientId, NOW.toISOString()));
    }
    const services = buildServices({ jwks: { keys: [] } });

    const result = await createSweepHandler(withIndex(services, index({ due: [due, overdue], rolloutVersion: services.policy.version })))({});

    expect(result).toMatchObject({ recertificationsDue: 1, recertificationsOverdue: 1, suspended: 1, failed: 0 });
    expect(table.consumerItem(overdue.clientId)).toMatchObject({ status: 'suspended' });
    expect(services.metrics.total('RecertificationsDue')).toBe(1);
    expect(services.metrics.total('RecertificationOutcomes', { outcome: 'suspended_overdue' })).toBe(1);
    expect(services.metrics.total('RecertificationOutcomes')).toBe(1);
    expect(services.metrics.total('SweepSuspended')).toBe(1);
  });

  it('after the lifecycle work, schedules the deletion of an old client secret whose consumer does not exist, and counts it', async () => {
    const services = buildServices({ jwks: { keys: [] } });
    const remove = vi.spyOn(services.clientSecrets, 'remove');
    vi.spyOn(services.consumers, 'getConsumer').mockResolvedValue(undefined);
    const clientSecretInventory = {
      listClientSecrets: vi.fn(async () => ({ secrets: [{ clientId: 'gh_neverCommitted', createdAt: new Date(NOW.getTime() - DAY_MS) }] })),
    };

    const result = await createSweepHandler(withIndex(services, index({ rolloutVersion: services.policy.version })), { clientSecretInventory })({});

    expect(result.orphanSecrets).toEqual({ checked: 1, deleted: 1, failed: 0, complete: true });
    expect(remove).toHaveBeenCalledWith('gh_neverCommitted');
    expect(services.metrics.snapshot().find((m) => m.name === 'SweepOrphanSecretsDeleted')).toMatchObject({ sum: 1 });
  });

  it('logs a client-secret listing that fails and still completes the run, whose lifecycle work is done', async () => {
    const services = buildServices({ jwks: { keys: [] } });
    const error = vi.spyOn(services.log, 'error');
    const clientSecretInventory = {
      listClientSecrets: vi.fn(async () => Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))),
    };

    const result = await createSweepHandler(withIndex(services, index({ rolloutVersion: services.policy.version })), { clientSecretInventory })({});

    expect(result).toMatchObject({ complete: true });
    expect(result.orphanSecrets).toBeUndefined();
    expect(error).toHaveBeenCalledWith('sweep could not list client secrets', expect.objectContaining({ error: 'AccessDeniedException' }));
  });

  it('publishes what it recorded when the run fails, and records no counts for the failed run', async () => {
    const services = buildServices({ jwks: { keys: [] } });
    const flush = vi.spyOn(services.metrics, 'flush');

    await expect(
      createSweepHandler(withIndex(services, index({ fail: new Error('index unavailable'), rolloutVersion: services.policy.version })))({}),
    ).rejects.toThrow('index unavailable');

    expect(flush).toHaveBeenCalledTimes(1);
    expect(services.metrics.snapshot()).toEqual([]);
  });

  it('resumes a stalled review whose execution already exists, recognising the error by name as a bundled SDK throws it', async () => {
    const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-onboarding';
    const table = new FakeTable(ddb);
    // Registration stored the request but recorded no workflow; the execution itself did start.
    const stalled = pendingConsumer({
      openReviewId: undefined,
      reviewExecution: undefined,
      createdAt: NOW.toISOString(),
      attentionAt: new Date(NOW.getTime() + STALLED_REVIEW_MS).toISOString(),
    });
    table.putConsumer(stalled);
    table.putAudit(auditTrailFor(CLIENT_ID, NOW.toISOString()));
    // Not the SDK's ExecutionAlreadyExists class: an error that only carries its name, as a client whose error registry lacks the class throws it.
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));
    const clock = new TestClock(new Date(NOW.getTime() + STALLED_REVIEW_MS + 1000));
    const services = buildServices({
      jwks: { keys: [] },
      clock,
      workflow: new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) }),
    });

    const result = await createSweepHandler(withIndex(services, index({ due: [stalled], rolloutVersion: services.policy.version })))({});

    expect(result).toMatchObject({ reviewsResumed: 1, failed: 0 });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(table.consumerItem(CLIENT_ID)).toMatchObject({
      reviewExecution: `arn:aws:states:eu-west-1:123456789012:execution:gatehouse-onboarding:review-${CLIENT_ID}`,
    });
  });
});
