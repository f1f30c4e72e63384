import { describe, expect, it } from 'vitest';
import { operatorActor, personOf, resolveOperator } from '../../../../lambdas/core/admin/operators.js';

const TABLE = [{ email: 'Alice@Bank.example', principals: ['arn:aws:sts::123456789012:assumed-role/Admin/alice', 'AROAEXAMPLEID:bob-laptop'] }];

describe('personOf', () => {
  it('maps a principal listed in the operator table to its person, by ARN or by aws:userid', () => {
    expect(personOf({ userArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice' }, TABLE)).toBe('alice@bank.example');
    expect(personOf({ userArn: 'arn:aws:sts::123456789012:assumed-role/Other/x', caller: 'AROAEXAMPLEID:bob-laptop' }, TABLE)).toBe('alice@bank.example');
  });

  it('takes the session name of an IAM Identity Center role as the person when it is an email address', () => {
    expect(personOf({ userArn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/Carol@Bank.example' }, [])).toBe('carol@bank.example');
  });

  it('names nobody for a session name chosen by whoever assumed an ordinary role, or for an unlisted user', () => {
    expect(personOf({ userArn: 'arn:aws:sts::123456789012:assumed-role/Admin/carol@bank.example' }, TABLE)).toBeUndefined();
    expect(personOf({ userArn: 'arn:aws:iam::123456789012:user/ops' }, TABLE)).toBeUndefined();
  });
});

describe('resolveOperator', () => {
  it('keeps the principal and the person, and records both as the audit actor', () => {
    const op = resolveOperator({ userArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice' }, TABLE);
    expect(op).toEqual({ id: 'arn:aws:sts::123456789012:assumed-role/Admin/alice', person: 'alice@bank.example' });
    expect(operatorActor(op!)).toEqual({ kind: 'operator', id: op!.id, person: 'alice@bank.example' });
  });

  it('returns no operator without a principal, and a principal without person when nobody is mapped', () => {
    expect(resolveOperator({}, TABLE)).toBeUndefined();
    expect(resolveOperator({ userArn: 'arn:aws:iam::123456789012:user/ops' }, TABLE)).toEqual({ id: 'arn:aws:iam::123456789012:user/ops' });
  });
});
