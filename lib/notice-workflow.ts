import { fileURLToPath } from 'node:url';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { MailAccess } from './handler-functions.js';
import { standardStateMachine, stateMachineRole, type ExecutionLogProps } from './review-workflow.js';

/** The consumer-notice state machine definition shared with local mode (resolved from this file, not the working directory). */
export const NOTICE_DEFINITION_PATH = fileURLToPath(new URL('../statemachines/consumer-notice.asl.json', import.meta.url));

export interface NoticeWorkflowProps extends ExecutionLogProps {
  /** The sender the notices go out from (`${MailFrom}`); the state machine may send from that address only. */
  readonly mail: MailAccess;
}

/**
 * Lifecycle notices to consumers' contacts (suspension, revocation, warnings, a rotated secret): a STANDARD state machine
 * from the shared ASL file that sends each notice through SES's SDK integration and retries what SES may accept later
 * for about 90 minutes. The functions that notify (`notice:send`) only start executions: they hold no SES permission
 * and carry no SES client, and a notice SES cannot take now is retried instead of lost. STANDARD rather than EXPRESS:
 * each send is attempted once per retry (EXPRESS is at-least-once), a failed execution can be redriven, and notices are
 * rare (a few state transitions each). Logs every event but never execution data, which holds contact addresses.
 */
export class NoticeWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Where execution history events are logged. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NoticeWorkflowProps) {
    super(scope, id);
    const role = stateMachineRole(this, 'Role', 'Gatehouse consumer notice state machine');
    // The definition is opaque to CDK, so its one call is granted here: ses:SendEmail on the identity, from the sender only.
    props.mail.grantSend(role);
    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = standardStateMachine(this, props, {
      role,
      definitionPath: NOTICE_DEFINITION_PATH,
      definitionSubstitutions: { MailFrom: props.mail.from },
      comment: 'Gatehouse consumer notices',
      logName: 'notice',
    }));
  }
}
