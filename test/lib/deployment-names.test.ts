import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { deploymentName } from '../../lib/deployment-names.js';
import { DEPLOYMENT_SUFFIX } from './deployment-fixture.js';

describe('deploymentName', () => {
  it('takes the suffix from the UUID of the stack id, so it changes only when the stack is created again', () => {
    expect(DEPLOYMENT_SUFFIX).toEqual({ 'Fn::Select': [0, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] });
  });

  it('shortens the stack name so that the whole name fits the limit with its 8-character suffix', () => {
    const stack = new Stack(new App(), 'A'.repeat(60));
    const name = stack.resolve(deploymentName(stack, 'registry', { maxLength: 50 })) as { 'Fn::Join': [string, [string, unknown]] };
    expect(name['Fn::Join'][1][0]).toBe(`${'A'.repeat(32)}-registry-`);
    expect(name['Fn::Join'][1][0].length + 8).toBe(50);
  });

  it('refuses a name with no room for the stack name', () => {
    const stack = new Stack(new App(), 'S');
    expect(() => deploymentName(stack, 'x'.repeat(40), { prefix: 'aws-waf-logs-', maxLength: 50 })).toThrow(/no room/);
  });
});
