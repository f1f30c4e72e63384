import { describe, expect, it, vi, type Mock } from 'vitest';
import { verifyChain, type AuditEvent } from '../../../../lambdas/core/audit/event.js';
import type { Consumer } from '../../../../lambdas/core/consumer/consumer.js';
import { applyTransition, transition, type TransitionRequest } from '../../../../lambdas/core/consumer/transition.js';
import { ServiceError } from '../../../../lambdas/core/errors.js';
import type { ConsumerChange, IdempotencyRecord, Registry } from '../../../../lambdas/core/ports.js';
import { RegistryError } from '../../../../lambdas/core/registry/errors.js';
import type { Services } from '../../../../lambdas/core/services.js';
import { auditTrailFor, CLIENT_ID, consumerFixture, DAY_MS, defaultPolicy, HOUR_MS, NOW, recordingLog, TestClock } from '../../fixtures.js';
import { MemoryMetrics } from '../../../../lambdas/adapters/local/memory-metrics.js';
import { FileClientSecrets } from '../../../../lambdas/adapters/local/file-client-secrets.js';

/** transition() needs only these two registry methods. */
type RegistryStub = { [K in 'getConsumer' | 'updateConsumer']: Mock<Registry[K]> };

/** Each read returns the next consumer given; the last one repeats. */
function stubRegistry(consumers: (Consumer | undefined)[]): RegistryStub {
  const reads = [...consumers];
  return {
    getConsumer: vi.fn<Registry['getConsumer']>(async () => (reads.length > 1 ? reads.shift() : reads[0])),
    updateConsumer: vi.fn<Registry['updateConsumer']>(async () => undefined),
  };
}

function servicesWith(registry: RegistryStub, clock = new TestClock()): Services {
  return {
    registry: registry as unknown as Registry,
    clock,
    vault: { getSigningKeys: vi.fn(), getPublicKeys: vi.fn() },
    clientSecrets: new FileClientSecrets(),
    workflow: { startReview: vi.fn(), sendTaskSuccess: vi.fn(), sendTaskFailure: vi.fn() },
    mailer: { send: vi.fn() },
    policy: defaultPolicy,
    config: {
      issuer: 'https://gatehouse.test',
      tokenAudience: 'aud',
      softwareStatement: { issuer: 'x', jwks: { keys: [] } },
      consumerCacheMs: 0,
      maxBodyBytes: 65_536,
      reviewers: { default: ['alice.reviewer@bank.example'] },
    },
    log: recordingLog(),
    metrics: new MemoryMetrics(),
  };
}

const suspend: TransitionRequest = {
  clientId: CLIENT_ID,
  to: 'suspended',
  event: 'consumer.suspended',
  actor: { kind: 'operator', id: 'ops-1' },
  data: { reason: 'incident 42' },
};

const lostRace = () => new RegistryError('condition_failed', 'changed');
const changeSent = (registry: RegistryStub, n = 0): ConsumerChange => registry.updateConsumer.mock.calls[n]![0];

describe('transition', () => {
  it('applies the change with the next audit event, conditioned on the status and audit position it read', async () => {
    const consumer = consumerFixture();
    const registry = stubRegistry([consumer]);
    const clock = new TestClock();
    clock.advance(HOUR_MS);

    const result = await transition(servicesWith(registry, clock), { ...suspend, set: { openReviewId: undefined } });

    expect(registry.updateConsumer).toHaveBeenCalledTimes(1);
    const change = changeSent(registry);
    expect(change.clientId).toBe(CLIENT_ID);
    expect(change.expect).toEqual({ statuses: ['active'], auditSeq: consumer.auditSeq });
    // A suspended consumer faces only its grant's end: the sweep looks again 14 days (the policy's warning) before it.
    const attentionAt = new Date(Date.parse(consumer.expiresAt) - 14 * DAY_MS).toISOString();
    expect(change.set).toEqual({ openReviewId: undefined, status: 'suspended', updatedAt: clock.now().toISOString(), attentionAt });
    expect(change.audit).toMatchObject({
      clientId: CLIENT_ID,
      seq: consumer.auditSeq + 1,
      prevHash: consumer.auditHead,
      type: 'consumer.suspended',
      at: clock.now().toISOString(),
      actor: { kind: 'operator', id: 'ops-1' },
      data: { reason: 'incident 42' },
    });
    const trail: AuditEvent[] = [...auditTrailFor(CLIENT_ID, NOW.toISOString()), change.audit];
    expect(verifyChain(trail)).toEqual({ ok: true });
    expect(result).toMatchObject({ status: 'suspended', auditSeq: change.audit.seq, auditHead: change.audit.hash });
  });

  it('passes the idempotency record into the same registry write', async () => {
    const registry = stubRegistry([consumerFixture()]);
    const record: IdempotencyRecord = { keyHash: 'k', requestHash: 'r', statusCode: 202, sealedBody: 's', createdAt: NOW.toISOString(), expiresAtEpoch: 1 };

    await transition(servicesWith(registry), { ...suspend, idempotency: record });

    expect(registry.updateConsumer.mock.calls[0]![1]).toBe(record);
  });

  it('keeps the status for a change without a target, still audited', async () => {
    const consumer = consumerFixture({ status: 'pending_review' });
    const registry = stubRegistry([consumer]);

    const result = await transition(servicesWith(registry), {
      clientId: CLIENT_ID,
      to: undefined,
      event: 'consumer.review_requested',
      actor: { kind: 'system', id: 'review-workflow' },
      data: {},
      set: { openReviewId: 'task-token' },
    });

    const change = changeSent(registry);
    expect(change.set).not.toHaveProperty('status');
    expect(change.expect.statuses).toEqual(['pending_review']);
    expect(change.audit.type).toBe('consumer.review_requested');
    expect(result).toMatchObject({ status: 'pending_review', openReviewId: 'task-token' });
  });

  it('re-reads and re-applies after losing a race once', async () => {
    const before = consumerFixture();
    const after = consumerFixture({ auditSeq: before.auditSeq + 1, auditHead: 'e'.repeat(64), lastUsedAt: NOW.toISOString() });
    const registry = stubRegistry([before, after]);
    registry.updateConsumer.mockRejectedValueOnce(lostRace());

    const result = await transition(servicesWith(registry), suspend);

    expect(registry.getConsumer).toHaveBeenCalledTimes(2);
    expect(registry.updateConsumer).toHaveBeenCalledTimes(2);
    expect(changeSent(registry, 1).expect.auditSeq).toBe(after.auditSeq);
    expect(changeSent(registry, 1).audit).toMatchObject({ seq: after.auditSeq + 1, prevHash: after.auditHead });
    expect(result).toMatchObject({ status: 'suspended', lastUsedAt: NOW.toISOString() });
  });

  it('gives up with the registry error after four lost races', async () => {
    const registry = stubRegistry([consumerFixture()]);
    registry.updateConsumer.mockRejectedValue(lostRace());

    const error = await transition(servicesWith(registry), suspend).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('condition_failed');
    expect(registry.updateConsumer).toHaveBeenCalledTimes(4);
    expect(registry.getConsumer).toHaveBeenCalledTimes(4);
  });

  it('does not retry a registry that is unavailable', async () => {
    const registry = stubRegistry([consumerFixture()]);
    registry.updateConsumer.mockRejectedValue(new RegistryError('unavailable', 'down'));

    await expect(transition(servicesWith(registry), suspend)).rejects.toMatchObject({ code: 'unavailable' });
    expect(registry.updateConsumer).toHaveBeenCalledTimes(1);
  });

  it('returns a consumer already in the target status unchanged, writing nothing', async () => {
    const consumer = consumerFixture({ status: 'suspended' });
    const registry = stubRegistry([consumer]);

    await expect(transition(servicesWith(registry), suspend)).resolves.toEqual(consumer);
    expect(registry.updateConsumer).not.toHaveBeenCalled();
  });

  it('is idempotent when a lost race turns out to have made the same change', async () => {
    const registry = stubRegistry([consumerFixture(), consumerFixture({ status: 'suspended' })]);
    registry.updateConsumer.mockRejectedValueOnce(lostRace());

    await expect(transition(servicesWith(registry), suspend)).resolves.toMatchObject({ status: 'suspended' });
    expect(registry.updateConsumer).toHaveBeenCalledTimes(1);
  });

  it('refuses a forbidden transition as a conflict, writing nothing', async () => {
    const registry = stubRegistry([consumerFixture({ status: 'revoked' })]);

    const error = await transition(servicesWith(registry), { ...suspend, to: 'active', event: 'consumer.activated' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('conflict');
    expect(registry.updateConsumer).not.toHaveBeenCalled();
  });

  it('reports an unknown consumer as not_found', async () => {
    const registry = stubRegistry([undefined]);

    await expect(transition(servicesWith(registry), suspend)).rejects.toMatchObject({ name: 'ServiceError', code: 'not_found' });
    expect(registry.updateConsumer).not.toHaveBeenCalled();
  });

  it('restarts the dormancy clock and re-arms attention when a consumer becomes active', async () => {
    const consumer = consumerFixture({ status: 'suspended', lastUsedAt: NOW.toISOString() });
    const registry = stubRegistry([consumer]);
    const clock = new TestClock();
    clock.advance(100 * DAY_MS);

    await transition(servicesWith(registry, clock), { ...suspend, to: 'active', event: 'consumer.activated' });

    const set = changeSent(registry).set;
    expect(set.activatedAt).toBe(clock.now().toISOString());
    // Active again: the earliest deadline is now the dormancy cutoff counted from the last use (before reinstatement),
    // or the grant's end, each less the 14-day warning.
    const dormancy = Date.parse(NOW.toISOString()) + consumer.requirements.dormancyDays * DAY_MS;
    const expiry = Date.parse(consumer.expiresAt);
    expect(set.attentionAt).toBe(new Date(Math.min(dormancy, expiry) - 14 * DAY_MS).toISOString());
  });

  it('removes a consumer from the attention index when it reaches a final status', async () => {
    const registry = stubRegistry([consumerFixture()]);

    await transition(servicesWith(registry), { ...suspend, to: 'revoked', event: 'consumer.revoked' });

    const set = changeSent(registry).set;
    expect('attentionAt' in set).toBe(true);
    expect(set.attentionAt).toBeUndefined();
  });

  it('reports whether it applied the change, and skips one whose `unless` holds, also after a lost race', async () => {
    const first = consumerFixture();
    const warned = consumerFixture({ auditSeq: first.auditSeq + 1, warningsSent: ['expiry:x'] });
    const registry = stubRegistry([first, warned]);
    registry.updateConsumer.mockRejectedValueOnce(lostRace());
    const request: TransitionRequest = { ...suspend, to: undefined, event: 'consumer.warned', unless: (c) => c.warningsSent?.includes('expiry:x') === true };

    const result = await applyTransition(servicesWith(registry), request);

    expect(result).toMatchObject({ applied: false, consumer: { auditSeq: warned.auditSeq } });
    expect(registry.updateConsumer).toHaveBeenCalledTimes(1);
  });

  it('uses a snapshot for its first attempt instead of reading, and reads after a lost race', async () => {
    const snapshot = consumerFixture();
    const fresh = consumerFixture({ auditSeq: snapshot.auditSeq + 1, auditHead: 'f'.repeat(64) });
    const registry = stubRegistry([fresh]);
    registry.updateConsumer.mockRejectedValueOnce(lostRace());

    const result = await applyTransition(servicesWith(registry), suspend, snapshot);

    expect(registry.getConsumer).toHaveBeenCalledTimes(1);
    expect(changeSent(registry, 0).expect.auditSeq).toBe(snapshot.auditSeq);
    expect(changeSent(registry, 1).expect.auditSeq).toBe(fresh.auditSeq);
    expect(result.applied).toBe(true);
  });
});
