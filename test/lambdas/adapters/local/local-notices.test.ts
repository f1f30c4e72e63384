import { describe, expect, it, vi } from 'vitest';
import { LocalNoticeWorkflow } from '../../../../lambdas/adapters/local/local-notices.js';
import type { Email, Mailer } from '../../../../lambdas/core/ports.js';
import type { Log } from '../../../../lambdas/core/services.js';
import { NOTICE_DEFINITION_PATH } from '../../../../lib/notice-workflow.js';

const NOTICE: Email = { to: ['ops@partner.example'], subject: '[Gatehouse] Access suspended', text: 'Suspended: incident 42.' };

function sesError(name: string): Error {
  const error = new Error(`${name} from SES`);
  error.name = name;
  return error;
}

/** The notice ASL over a delivery that fails with `failures` in turn, then delivers. */
function notices(failures: readonly string[], retryIntervalMs = 1) {
  const delivered: Email[] = [];
  let attempts = 0;
  const deliver: Mailer = {
    send: async (email) => {
      const failure = failures[attempts++];
      if (failure !== undefined) throw sesError(failure);
      delivered.push(email);
    },
  };
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() } as unknown as Log & { error: ReturnType<typeof vi.fn> };
  const workflow = new LocalNoticeWorkflow({
    definitionFile: NOTICE_DEFINITION_PATH,
    substitutions: { MailFrom: 'gatehouse@localhost' },
    deliver,
    log,
    retryIntervalMs,
  });
  return { workflow, delivered, log, attempts: () => attempts };
}

describe('LocalNoticeWorkflow (the consumer-notice ASL file, run locally)', () => {
  it('delivers the notice as it was given', async () => {
    const { workflow, delivered, log } = notices([]);
    await workflow.send(NOTICE);
    await workflow.drain();
    expect(delivered).toEqual([NOTICE]);
    expect(log.error).not.toHaveBeenCalled();
  });

  it('retries what SES may accept later (throttling, a paused account, its own faults) and then delivers', async () => {
    const { workflow, delivered, attempts } = notices(['TooManyRequestsException', 'SendingPausedException', 'InternalServiceErrorException']);
    await workflow.send(NOTICE);
    await workflow.drain();
    expect(attempts()).toBe(4);
    expect(delivered).toEqual([NOTICE]);
  });

  it('gives up after 8 retries and reports the notice as failed', async () => {
    const { workflow, delivered, attempts, log } = notices(Array.from({ length: 20 }, () => 'TooManyRequestsException'));
    await workflow.send(NOTICE);
    await workflow.drain();
    expect(attempts()).toBe(9);
    expect(delivered).toEqual([]);
    expect(log.error).toHaveBeenCalledWith('consumer notice failed', { error: 'SesV2.TooManyRequestsException', recipients: 1 });
  });

  it.each(['MessageRejected', 'MailFromDomainNotVerifiedException', 'AccountSuspendedException', 'BadRequestException'])(
    'fails at once on %s, which no retry would fix',
    async (name) => {
      const { workflow, attempts, log } = notices([name, name]);
      await workflow.send(NOTICE);
      await workflow.drain();
      expect(attempts()).toBe(1);
      expect(log.error).toHaveBeenCalledWith('consumer notice failed', { error: `SesV2.${name}`, recipients: 1 });
    },
  );

  it('returns once the notice is under way, as StartExecution does, not once it is delivered', async () => {
    const { workflow, delivered } = notices(['TooManyRequestsException'], 50);
    await workflow.send(NOTICE);
    expect(delivered).toEqual([]);
    await workflow.drain();
    expect(delivered).toEqual([NOTICE]);
  });

  it('stops retrying when closed, quietly, and refuses new notices', async () => {
    const { workflow, delivered, log } = notices(['TooManyRequestsException'], 60_000);
    await workflow.send(NOTICE);
    workflow.close();
    await workflow.drain();
    expect(delivered).toEqual([]);
    expect(log.error).not.toHaveBeenCalled();
    await expect(workflow.send(NOTICE)).rejects.toThrow(/closed/);
  });
});
