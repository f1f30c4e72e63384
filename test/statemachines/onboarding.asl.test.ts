import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import '../../lambdas/adapters/local/polyfills.js';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { RequestEnded } from '../../lambdas/core/review/request-ended.js';

const require = createRequire(import.meta.url);
const validate = require('asl-validator') as typeof import('asl-validator');

const TEXT = readFileSync('statemachines/onboarding.asl.json', 'utf8');
const SUBSTITUTED = TEXT.replaceAll('${ReviewTaskFunctionArn}', 'arn:aws:lambda:eu-west-1:123456789012:function:gatehouse-review-task');

interface State {
  Type: string;
  Resource?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Next?: string;
  TimeoutSecondsPath?: string;
}
const definition = JSON.parse(SUBSTITUTED) as { StartAt: string; States: Record<string, State> };

describe('statemachines/onboarding.asl.json', () => {
  it('is valid Amazon States Language, as written and with its substitutions resolved', () => {
    for (const text of [TEXT, SUBSTITUTED]) {
      const result = validate(JSON.parse(text));
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    }
  });

  it('uses only the ReviewTaskFunctionArn substitution', () => {
    expect([...new Set(TEXT.match(/\$\{[A-Za-z]+\}/g))]).toEqual(['${ReviewTaskFunctionArn}']);
  });

  it('catches every failure of every task into a recorded outcome, so no request stays silently pending', () => {
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [name, state] of tasks) {
      const catchAll = state.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(catchAll, name).toBeDefined();
      expect(definition.States[catchAll!.Next], name).toBeDefined();
      expect(state.Retry?.length, `${name} retries transient errors`).toBeGreaterThan(0);
    }
  });

  it('waits for each approval with a task token, bounded by the review SLA, and routes timeout and denial', () => {
    const wait = definition.States['AwaitApproval']!;
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(wait.TimeoutSecondsPath).toBe('$.reviewSlaSeconds');
    const routes = Object.fromEntries((wait.Catch ?? []).map((c) => [c.ErrorEquals[0], c.Next]));
    expect(routes).toMatchObject({ 'States.Timeout': 'Expire', 'Gatehouse.Denied': 'Deny', 'States.ALL': 'RecordFailure' });
    expect(TEXT).toContain('"taskToken.$": "$$.Task.Token"');
  });

  it("gives every round the execution's start time and the next round only what is left of the one review deadline", () => {
    expect(TEXT).toContain('"startedAt.$": "$$.Execution.StartTime"');
    expect(definition.States['EnoughApprovals']).toMatchObject({ Default: 'NextRound' });
    expect(definition.States['NextRound']).toEqual(
      expect.objectContaining({ Type: 'Pass', InputPath: '$.approval.remainingSeconds', ResultPath: '$.reviewSlaSeconds', Next: 'AwaitApproval' }),
    );
  });

  /** Runs the machine with AwaitApproval answering `decisions` in turn and CountApprovals answering `counted`. */
  async function runReview(counted: Record<string, unknown>, decisions: ReadonlyArray<Record<string, unknown> | Error>) {
    const payloads: Array<Record<string, unknown>> = [];
    const steps: string[] = [];
    const input = { clientId: 'gh_1', requestId: null, approvals: 2, reviewSlaSeconds: 72 * 3600 };
    // aws-local-stepfunctions reads TimeoutSecondsPath from the task's Parameters, so the wait is fixed here (as in local mode).
    const { TimeoutSecondsPath: _path, ...await_ } = definition.States['AwaitApproval'] as State & Record<string, unknown>;
    const machine = new StateMachine({ ...definition, States: { ...definition.States, AwaitApproval: { ...await_, TimeoutSeconds: 60 } } } as never, {
      validationOptions: { noValidate: true },
    });
    const execution = machine.run(input as never, {
      context: { Execution: { Id: 'e', Name: 'e', Input: input }, Task: { Token: 'token' } } as never,
      overrides: {
        taskResourceLocalHandlers: {
          // Every other task answers as review-task does when it succeeds.
          ...Object.fromEntries(
            Object.entries(definition.States)
              .filter(([, s]) => s.Type === 'Task')
              .map(([name]) => [
                name,
                async () => {
                  steps.push(name);
                  return { Payload: { status: 'active' } };
                },
              ]),
          ),
          CountApprovals: async (input: { Payload: Record<string, unknown> }) => {
            steps.push('CountApprovals');
            payloads.push(input.Payload);
            return { Payload: { status: 'counted', ...counted } };
          },
          AwaitApproval: async (input: { Payload: Record<string, unknown> }) => {
            steps.push('AwaitApproval');
            payloads.push(input.Payload);
            const decision = decisions[payloads.length - 2];
            if (decision instanceof Error) throw decision;
            return decision;
          },
        } as never,
      },
    });
    return { output: (await execution.result) as Record<string, unknown>, payloads, steps };
  }

  it('runs two rounds with one start time, the second waiting the time the first decision left', async () => {
    const {
      output,
      payloads: all,
      steps,
    } = await runReview({ approvalsGranted: 0, remainingSeconds: 5000 }, [
      { approvalsGranted: 1, reviewId: 'r1', remainingSeconds: 1234 },
      { approvalsGranted: 2, reviewId: 'r2', remainingSeconds: 99 },
    ]);
    expect(steps.slice(0, 3)).toEqual(['CountApprovals', 'AwaitApproval', 'AwaitApproval']);
    expect(all[0]).toMatchObject({ action: 'count_approvals', clientId: 'gh_1' });
    const payloads = all.slice(1);
    expect(payloads).toHaveLength(2);
    expect(payloads[0]!['startedAt']).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
    expect(payloads[1]!['startedAt']).toBe(payloads[0]!['startedAt']);
    expect(payloads[0]!['startedAt']).toBe(all[0]!['startedAt']);
    expect(output['reviewSlaSeconds']).toBe(1234);
  });

  it('goes straight to activation when the approvals recorded already suffice (a decision recorded but never delivered)', async () => {
    const { steps, payloads } = await runReview({ approvalsGranted: 2, remainingSeconds: 70 }, []);
    expect(steps).toEqual(['CountApprovals', 'Activate', 'NotifyRequester']);
    expect(payloads).toHaveLength(1);
  });

  it('ends as succeeded, opening no round and recording no failure, when the request ended before its next round (Gatehouse.RequestEnded)', async () => {
    const { steps, output } = await runReview({ approvalsGranted: 0, remainingSeconds: 5000 }, [
      { approvalsGranted: 1, reviewId: 'r1', remainingSeconds: 1234 },
      new RequestEnded('Consumer gh_1 is withdrawn: nothing is left to review.'),
    ]);
    expect(steps).toEqual(['CountApprovals', 'AwaitApproval', 'AwaitApproval']);
    expect(output['error']).toMatchObject({ Error: 'Gatehouse.RequestEnded' });
    expect(definition.States['RequestEnded']).toMatchObject({ Type: 'Succeed' });
  });

  it('retries an email that cannot be sent for about a day, with waits growing to an hour, in every step that sends one', () => {
    for (const name of ['AwaitApproval', 'NotifyRequester', 'NotifyFailure']) {
      const retry = (definition.States[name]!.Retry ?? []) as Array<Record<string, unknown> & { ErrorEquals: string[] }>;
      const mail = retry.find((r) => r.ErrorEquals.includes('Gatehouse.MailUnavailable'));
      expect(mail, name).toMatchObject({ MaxDelaySeconds: 3600, BackoffRate: 2 });
      let total = 0;
      for (let attempt = 0; attempt < (mail!['MaxAttempts'] as number); attempt++) {
        total += Math.min((mail!['IntervalSeconds'] as number) * 2 ** attempt, 3600);
      }
      // Full jitter halves the expected wait: about a day on average.
      expect(total / 2, name).toBeGreaterThan(20 * 3600);
    }
  });

  it('notifies the requester after every outcome', () => {
    for (const outcome of ['Activate', 'Deny', 'Expire']) expect(definition.States[outcome]!.Next).toBe('NotifyRequester');
    expect(definition.States['RecordFailure']!.Next).toBe('NotifyFailure');
  });
});
