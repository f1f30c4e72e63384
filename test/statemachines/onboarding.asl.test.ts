import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

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
    const wait = definition.States[definition.StartAt]!;
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(wait.TimeoutSecondsPath).toBe('$.reviewSlaSeconds');
    const routes = Object.fromEntries((wait.Catch ?? []).map((c) => [c.ErrorEquals[0], c.Next]));
    expect(routes).toMatchObject({ 'States.Timeout': 'Expire', 'Gatehouse.Denied': 'Deny', 'States.ALL': 'RecordFailure' });
    expect(TEXT).toContain('"taskToken.$": "$$.Task.Token"');
  });

  it('notifies the requester after every outcome', () => {
    for (const outcome of ['Activate', 'Deny', 'Expire']) expect(definition.States[outcome]!.Next).toBe('NotifyRequester');
    expect(definition.States['RecordFailure']!.Next).toBe('NotifyFailure');
  });
});
