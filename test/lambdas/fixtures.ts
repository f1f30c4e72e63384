import { afterEach, beforeEach, vi, type Mock } from 'vitest';
import { chainEvent, GENESIS_HASH, type AuditEvent } from '../../lambdas/core/audit/event.js';
import type { Consumer } from '../../lambdas/core/consumer/consumer.js';
import type { Clock } from '../../lambdas/core/ports.js';
import type { Log } from '../../lambdas/core/services.js';
import { sha256B64u } from '../../lambdas/core/util/hash.js';
import { defaultPolicy, NOW } from './core/policy/fixtures.js';

export { DAY_MS, NOW, defaultPolicy } from './core/policy/fixtures.js';

export const HOUR_MS = 3_600_000;

/** Dummy settings for AWS SDK clients whose `send` is mocked: nothing ever leaves the process. */
export const AWS_TEST_CLIENT_CONFIG = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret-access-key' },
} as const;

/** A frozen clock that a test moves forward explicitly; the real clock is never read. */
export class TestClock implements Clock {
  #now: number;

  constructor(start: Date = NOW) {
    this.#now = start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A Log whose entries are recorded, never printed. */
export type RecordingLog = { readonly [K in keyof Log]: Mock<Log[K]> };

export function recordingLog(): RecordingLog {
  return { info: vi.fn<Log['info']>(), warn: vi.fn<Log['warn']>(), error: vi.fn<Log['error']>() };
}

export const CLIENT_ID = 'gh_testclient0000000';
export const CLIENT_SECRET = 'test-client-secret-that-is-long-enough-to-be-real';
export const REGISTRATION_TOKEN = 'test-registration-access-token-abcdefghijklmnop';

/** Two chained audit events of a consumer, as registration writes them. */
export function auditTrailFor(clientId: string, at: string, count = 2): AuditEvent[] {
  const types: AuditEvent['type'][] = ['consumer.requested', 'consumer.evaluated', 'consumer.activated', 'credentials.issued'];
  const events: AuditEvent[] = [];
  for (let i = 0; i < count; i++) {
    const prev = events.at(-1);
    events.push(
      chainEvent(
        { seq: prev?.seq ?? 0, head: prev?.hash ?? GENESIS_HASH },
        { clientId, type: types[i % types.length]!, at, actor: { kind: 'system', id: 'gatehouse' }, data: { step: i } },
      ),
    );
  }
  return events;
}

/** An active, low-risk, client_secret_basic consumer whose secret is CLIENT_SECRET; override what a test is about. */
export function consumerFixture(overrides: Partial<Consumer> = {}): Consumer {
  const iso = NOW.toISOString();
  const clientId = overrides.clientId ?? CLIENT_ID;
  const trail = auditTrailFor(clientId, iso);
  const head = trail.at(-1)!;
  const expiresAt = new Date(NOW.getTime() + 30 * 86_400_000).toISOString();
  return {
    clientId,
    clientName: 'FX dashboard',
    tier: 'public',
    status: 'active',
    scopes: ['reference-data:read'],
    purpose: 'Show FX rates in our treasury dashboard',
    dataClasses: ['public'],
    contacts: ['api-owner@partner.example'],
    expiresAt,
    authMethod: 'client_secret_basic',
    risk: 'low',
    requirements: defaultPolicy.document.risks.low,
    policyVersion: defaultPolicy.version,
    decisionReasons: [{ code: 'low_risk_self_service', subject: 'low', message: 'Low risk: approved by policy.' }],
    secretHash: sha256B64u(CLIENT_SECRET),
    secretExpiresAt: expiresAt,
    registrationTokenHash: sha256B64u(REGISTRATION_TOKEN),
    createdAt: iso,
    updatedAt: iso,
    auditSeq: head.seq,
    auditHead: head.hash,
    ...overrides,
  };
}

/** When the registration bodies below expire: 30 days after NOW, as consumerFixture does. */
export const REGISTRATION_EXPIRES_AT = new Date(NOW.getTime() + 30 * 86_400_000).toISOString();

/** The registration request of consumerFixture's consumer: public tier, which the default policy approves on its own. */
export function publicRegistration(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: 'FX dashboard',
    tier: 'public',
    scope: 'reference-data:read',
    purpose: 'Show FX rates in our treasury dashboard',
    data_classes: ['public'],
    contacts: ['api-owner@partner.example'],
    expires_at: REGISTRATION_EXPIRES_AT,
    ...overrides,
  };
}

/**
 * A partner request for medium-risk data with a key-bound client, which the default policy sends to one reviewer.
 * `softwareStatement` is a partner-tier statement for software `treasury-sync` (handlers/fixtures.ts `statementSigner`).
 */
export function reviewRegistration(clientJwk: object, softwareStatement: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: 'Treasury sync',
    scope: 'accounts:read',
    purpose: 'Reconcile business account balances every night',
    data_classes: ['confidential'],
    contacts: ['owner@partner.example'],
    expires_at: REGISTRATION_EXPIRES_AT,
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [clientJwk] },
    software_statement: softwareStatement,
    ...overrides,
  };
}

/**
 * Captures stdout and stderr during every test of the calling file (Powertools Logger writes INFO to stdout and WARN/ERROR
 * to stderr, each line in one write; local mode's log writes to stderr). `jsonLines` gives the JSON lines written so far.
 */
export function captureOutput(): { jsonLines(): Array<Record<string, unknown>> } {
  let written: string[] = [];
  let spies: Array<{ mockRestore(): void }> = [];
  beforeEach(() => {
    written = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      written.push(String(chunk));
      return true;
    };
    spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  });
  afterEach(() => {
    for (const spy of spies) spy.mockRestore();
  });
  return {
    jsonLines: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
