import { describe, expect, it } from 'vitest';
import { validatedStateMachine } from '../../../../lambdas/adapters/local/local-workflow.js';

const definition = (next: string) => ({
  StartAt: 'Wait',
  States: { Wait: { Type: 'Pass', Next: next }, Done: { Type: 'Succeed' } },
});

describe('validatedStateMachine', () => {
  it('refuses a definition that does not validate, every time it is asked, so a bad file is never remembered as good', () => {
    for (let i = 0; i < 2; i++) expect(() => validatedStateMachine(definition('Nowhere'))).toThrow();
  });

  it('refuses a bad JSONPath even after the same states with good paths passed', () => {
    const good = { StartAt: 'A', States: { A: { Type: 'Pass', InputPath: '$.a', End: true } } };
    expect(validatedStateMachine(good)).toBeDefined();
    expect(() => validatedStateMachine({ ...good, States: { A: { ...good.States.A, InputPath: 'not a path' } } })).toThrow();
  });

  it('runs a definition it validated before', async () => {
    validatedStateMachine(definition('Done'));
    const execution = validatedStateMachine(definition('Done')).run({ x: 1 });
    await expect(execution.result).resolves.toEqual({ x: 1 });
  });
});
