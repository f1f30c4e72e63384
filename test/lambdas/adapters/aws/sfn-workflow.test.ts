import { ExecutionAlreadyExists, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SfnWorkflow } from '../../../../lambdas/adapters/aws/sfn-workflow.js';
import type { ReviewRequest } from '../../../../lambdas/core/ports.js';
import { AWS_TEST_CLIENT_CONFIG } from '../../fixtures.js';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:gatehouse-onboarding';
const sfn = mockClient(SFNClient);
const workflow = () => new SfnWorkflow({ stateMachineArn: STATE_MACHINE_ARN, client: new SFNClient(AWS_TEST_CLIENT_CONFIG) });

const request: ReviewRequest = { clientId: 'gh_abc123', requestId: null, risk: 'medium', approvals: 1, reviewSlaSeconds: 72 * 3600 };

describe('SfnWorkflow', () => {
  afterEach(() => {
    sfn.reset();
  });

  describe('startReview', () => {
    it('names a change request’s execution after the request, so a consumer can have several reviews over its life', async () => {
      sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x', startDate: new Date() });
      await workflow().startReview({ ...request, requestId: 'exc-0123456789abcdef01234567' });
      expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toMatchObject({ name: 'request-exc-0123456789abcdef01234567' });
    });

    it('starts an execution named after the consumer, with the request as input', async () => {
      const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:gatehouse-onboarding:review-gh_abc123';
      sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });

      await expect(workflow().startReview(request)).resolves.toBe(executionArn);

      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
      const input = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
      expect(input).toEqual({ stateMachineArn: STATE_MACHINE_ARN, name: 'review-gh_abc123', input: expect.any(String) });
      expect(JSON.parse(input.input!)).toEqual(request);
    });

    it('treats ExecutionAlreadyExists as the execution already started', async () => {
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

      await expect(workflow().startReview(request)).resolves.toBe('arn:aws:states:eu-west-1:123456789012:execution:gatehouse-onboarding:review-gh_abc123');
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
    });

    it('propagates any other failure', async () => {
      sfn.on(StartExecutionCommand).rejects(new Error('ServiceUnavailable'));

      await expect(workflow().startReview(request)).rejects.toThrow('ServiceUnavailable');
    });
  });

  describe('sendTaskSuccess', () => {
    it('sends the task token with the output as JSON', async () => {
      sfn.on(SendTaskSuccessCommand).resolves({});

      await workflow().sendTaskSuccess('task-token-1', { decision: 'approve', reviewer: 'r1' });

      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
      const input = sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input;
      expect(input.taskToken).toBe('task-token-1');
      expect(JSON.parse(input.output!)).toEqual({ decision: 'approve', reviewer: 'r1' });
    });
  });

  describe('sendTaskFailure', () => {
    it('sends the task token with the error and cause', async () => {
      sfn.on(SendTaskFailureCommand).resolves({});

      await workflow().sendTaskFailure('task-token-2', 'Denied', 'reviewer denied the request');

      expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
        { taskToken: 'task-token-2', error: 'Denied', cause: 'reviewer denied the request' },
      ]);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });
  });
});
