import { describe, expect, it } from 'vitest';
import { deadlines, attentionAt } from '../../../../lambdas/core/lifecycle/attention.js';
import { PolicyError } from '../../../../lambdas/core/policy/errors.js';
import { loadPolicy } from '../../../../lambdas/core/policy/load.js';
import {
  MAX_REOPENINGS,
  nextRecertificationDueAt,
  recertificationDueAt,
  recertificationSuspendAt,
  reopenedWindow,
  REVIEW_OUTCOME_MARGIN_MS,
} from '../../../../lambdas/core/recertification/due.js';
import { consumerFixture } from '../../fixtures.js';
import { defaultDocument, defaultPolicy } from '../policy/fixtures.js';

const DAY = 86_400_000;
const settings = { warningDays: 14, recertificationDays: { low: 365, medium: 180, high: 90 }, recertificationGraceDays: 14 };
const ACTIVATED = '2026-01-10T00:00:00.000Z';

function issuesOf(mutate: (d: ReturnType<typeof defaultDocument>) => void): string[] {
  const doc = defaultDocument();
  mutate(doc);
  try {
    loadPolicy(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).issues as string[];
  }
  return [];
}

describe('recertification due dates', () => {
  it('counts the risk’s period from the activation of a consumer that has none recorded', () => {
    for (const [risk, days] of [
      ['low', 365],
      ['medium', 180],
      ['high', 90],
    ] as const) {
      const consumer = consumerFixture({ risk, activatedAt: ACTIVATED, recertification: undefined });
      expect(recertificationDueAt(consumer, settings)).toBe(Date.parse(ACTIVATED) + days * DAY);
    }
  });

  it('falls back to the creation date when the consumer was never activated by a transition', () => {
    const consumer = consumerFixture({ risk: 'high', activatedAt: undefined, createdAt: ACTIVATED, recertification: undefined });
    expect(recertificationDueAt(consumer, settings)).toBe(Date.parse(ACTIVATED) + 90 * DAY);
  });

  it('uses the recorded due date once there is one', () => {
    const consumer = consumerFixture({ risk: 'low', activatedAt: ACTIVATED, recertification: { dueAt: '2026-03-01T00:00:00.000Z' } });
    expect(recertificationDueAt(consumer, settings)).toBe(Date.parse('2026-03-01T00:00:00.000Z'));
  });

  it('suspends after the grace period, or not before the review deadline of an attestation awaiting a reviewer', () => {
    const dueAt = '2026-03-01T00:00:00.000Z';
    const plain = consumerFixture({ recertification: { dueAt } });
    expect(recertificationSuspendAt(plain, settings)).toBe(Date.parse(dueAt) + 14 * DAY);
    const until = '2026-03-30T00:00:00.000Z';
    const pending = consumerFixture({
      recertification: { dueAt, pending: { at: dueAt, linkId: 'l', attestedBy: 'a@x.example', scopesRemoved: [], requestId: 'rec-1', until } },
    });
    // The workflow records the review's outcome at its deadline: the sweep leaves it that margin before suspending.
    expect(recertificationSuspendAt(pending, settings)).toBe(Date.parse(until) + REVIEW_OUTCOME_MARGIN_MS);
  });

  it('does not suspend before the window a review that ended undecided reopened', () => {
    const dueAt = '2026-03-01T00:00:00.000Z';
    const until = '2026-04-10T00:00:00.000Z';
    const reopened = consumerFixture({ recertification: { dueAt, reopened: { count: 1, at: '2026-03-27T00:00:00.000Z', until, requestId: 'rec-1' } } });
    expect(recertificationSuspendAt(reopened, settings)).toBe(Date.parse(until));
  });

  it('reopens a window of the grace period from the review’s end, at most MAX_REOPENINGS times per due date', () => {
    const at = new Date('2026-03-27T00:00:00.000Z');
    const first = reopenedWindow(consumerFixture({ recertification: { dueAt: '2026-03-01T00:00:00.000Z' } }), settings, at, 'rec-1');
    expect(first).toEqual({ count: 1, at: at.toISOString(), until: new Date(at.getTime() + 14 * DAY).toISOString(), requestId: 'rec-1' });
    const last = consumerFixture({ recertification: { dueAt: '2026-03-01T00:00:00.000Z', reopened: { ...first!, count: MAX_REOPENINGS } } });
    expect(reopenedWindow(last, settings, at, 'rec-3')).toBeUndefined();
    // Without a grace period the owner still gets a day to attest again.
    expect(
      reopenedWindow(consumerFixture({ recertification: { dueAt: '2026-03-01T00:00:00.000Z' } }), { ...settings, recertificationGraceDays: 0 }, at, 'rec-1')
        ?.until,
    ).toBe(new Date(at.getTime() + DAY).toISOString());
  });

  it('asks the sweep for new links after a reopening, and reminds half-way through the new window under its own key', () => {
    const dueAt = '2026-03-01T00:00:00.000Z';
    const reopened = { count: 1, at: '2026-03-27T00:00:00.000Z', until: '2026-04-10T00:00:00.000Z', requestId: 'rec-1' };
    const consumer = consumerFixture({
      status: 'active',
      recertification: { dueAt, reopened },
      expiresAt: '2027-12-01T00:00:00.000Z',
      lastUsedAt: '2026-03-27T00:00:00.000Z',
      warningsSent: [`recertification:${dueAt}`],
    });
    const list = deadlines(consumer, settings);
    expect(list.find((d) => d.kind === 'recertification')).toMatchObject({ at: Date.parse(dueAt) });
    expect(list.find((d) => d.kind === 'recertification_overdue')).toMatchObject({
      at: Date.parse(reopened.until),
      warnAt: Date.parse(reopened.at) + 7 * DAY,
      warningKey: `recertification:${dueAt}:1`,
    });
  });

  it('starts the next period from the attestation, by the consumer’s risk', () => {
    expect(nextRecertificationDueAt(new Date(ACTIVATED), 'medium', settings)).toBe(new Date(Date.parse(ACTIVATED) + 180 * DAY).toISOString());
    expect(nextRecertificationDueAt(new Date(ACTIVATED), 'medium', {})).toBeUndefined();
  });

  it('gives an active consumer a link deadline at the due date and a reminder half-way through the grace period', () => {
    const dueAt = '2026-03-01T00:00:00.000Z';
    const consumer = consumerFixture({ status: 'active', recertification: { dueAt }, expiresAt: '2027-12-01T00:00:00.000Z', lastUsedAt: dueAt });
    const list = deadlines(consumer, settings);
    expect(list.find((d) => d.kind === 'recertification')).toMatchObject({ at: Date.parse(dueAt) });
    expect(list.find((d) => d.kind === 'recertification_overdue')).toMatchObject({
      at: Date.parse(dueAt) + 14 * DAY,
      warnAt: Date.parse(dueAt) + 7 * DAY,
    });
    const sent = consumerFixture({ ...consumer, recertification: { dueAt, linksSentAt: dueAt, links: [] } });
    expect(deadlines(sent, settings).some((d) => d.kind === 'recertification')).toBe(false);
    expect(attentionAt(sent, settings)).toBe(new Date(Date.parse(dueAt) + 7 * DAY).toISOString());
  });

  it('gives a suspended consumer no recertification deadline', () => {
    const consumer = consumerFixture({ status: 'suspended', recertification: { dueAt: '2026-03-01T00:00:00.000Z' } });
    expect(deadlines(consumer, settings).some((d) => d.kind.startsWith('recertification'))).toBe(false);
  });
});

describe('recertification policy', () => {
  it('ships 365 / 180 / 90 days with a 14-day grace period', () => {
    expect(defaultPolicy.document.lifecycle).toMatchObject({ recertificationDays: { low: 365, medium: 180, high: 90 }, recertificationGraceDays: 14 });
  });

  it('defaults both settings when a policy leaves them out', () => {
    const doc = defaultDocument() as unknown as { lifecycle: Record<string, unknown> };
    delete doc.lifecycle['recertificationDays'];
    delete doc.lifecycle['recertificationGraceDays'];
    expect(loadPolicy(doc).document.lifecycle).toMatchObject({ recertificationDays: { low: 365, medium: 180, high: 90 }, recertificationGraceDays: 14 });
  });

  it('refuses a higher risk recertified less often than a lower one', () => {
    expect(issuesOf((d) => void (d.lifecycle.recertificationDays.high = 200))).toContain(
      'lifecycle.recertificationDays: higher risk must not be recertified less often',
    );
  });

  it('refuses a grace period as long as a period', () => {
    expect(
      issuesOf((d) => {
        d.lifecycle.recertificationDays = { low: 30, medium: 30, high: 30 };
        d.lifecycle.recertificationGraceDays = 30;
      }),
    ).toContain('lifecycle.recertificationGraceDays: the grace period must be shorter than the high-risk recertification period');
  });

  it('refuses periods outside 7 to 1095 days and a negative grace period', () => {
    expect(issuesOf((d) => void (d.lifecycle.recertificationDays.high = 3)).some((i) => i.startsWith('lifecycle.recertificationDays.high'))).toBe(true);
    expect(issuesOf((d) => void (d.lifecycle.recertificationDays.low = 2000)).some((i) => i.startsWith('lifecycle.recertificationDays.low'))).toBe(true);
    expect(issuesOf((d) => void (d.lifecycle.recertificationGraceDays = -1)).some((i) => i.startsWith('lifecycle.recertificationGraceDays'))).toBe(true);
  });
});
