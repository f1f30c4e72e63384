import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { JSONWebKeySet } from 'jose';
import { describe, expect, it } from 'vitest';
import { checkEnvironmentSizes, ENVIRONMENT_BUDGET_BYTES, environmentBytes, estimatedBytes } from '../../lib/environment-size.js';
import { GatehouseStack } from '../../lib/gatehouse-stack.js';
import { defaultConfig, synthGatehouse, testApp } from './stack-fixture.js';

describe('estimatedBytes', () => {
  it('counts literals exactly, pseudo parameters at their longest and other references conservatively', () => {
    expect(estimatedBytes('héllo')).toBe(6);
    expect(estimatedBytes({ Ref: 'AWS::Region' })).toBe(16);
    expect(estimatedBytes({ Ref: 'RegistryTable' })).toBe(192);
    expect(estimatedBytes({ 'Fn::GetAtt': ['Key', 'Arn'] })).toBe(192);
    expect(estimatedBytes({ 'Fn::Join': ['/', ['https:', { Ref: 'AWS::URLSuffix' }, 'v1']] })).toBe(6 + 16 + 2 + 2);
  });
});

describe('checkEnvironmentSizes', () => {
  it('passes the default Gatehouse stack, every function within the budget', () => {
    const { stack } = synthGatehouse();
    const functions = stack.node.findAll().filter((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction);
    expect(functions.length).toBeGreaterThan(10);
    for (const fn of functions) expect(environmentBytes(fn).total, fn.node.path).toBeLessThanOrEqual(ENVIRONMENT_BUDGET_BYTES);
  });

  it('fails synthesis naming the function and its largest variables when reviewers and JWKS near their own caps add up over the budget', () => {
    // Each within what the context accepts on its own (reviewers < 1 KB, JWKS < 2 KB), together over 4 KB with the rest.
    const reviewers = { default: Array.from({ length: 30 }, (_, i) => `reviewer-${String(i).padStart(2, '0')}@bank.example`) };
    const jwks = { keys: [0, 1].map((i) => ({ kty: 'RSA', kid: `commercial-${i}`, e: 'AQAB', n: 'x'.repeat(880) })) } as JSONWebKeySet;
    expect(Buffer.byteLength(JSON.stringify(reviewers))).toBeLessThan(1024);
    expect(Buffer.byteLength(JSON.stringify(jwks))).toBeLessThan(2048);
    const app = testApp();
    new GatehouseStack(app, 'Gatehouse', { ...defaultConfig(), reviewers, softwareStatementJwks: jwks });
    expect(() => app.synth()).toThrow(
      /Gatehouse\/Handlers\/Admin\/Function\/Resource: its environment may take \d+ bytes once deployed, over the 3584 bytes .*largest: GATEHOUSE_SOFTWARE_STATEMENT_JWKS/s,
    );
  });

  it('counts keys and values of a bare function and refuses one over a given budget', () => {
    const app = new App();
    const stack = new Stack(app, 'Bare');
    new lambda.Function(stack, 'Fn', {
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      environment: { ABC: 'x'.repeat(97) },
    });
    const fn = stack.node.findAll().find((c): c is lambda.CfnFunction => c instanceof lambda.CfnFunction)!;
    expect(environmentBytes(fn).total).toBe(100);
    checkEnvironmentSizes(stack, 99);
    expect(() => app.synth()).toThrow(/Bare\/Fn\/Resource: its environment may take 100 bytes/);
  });
});
