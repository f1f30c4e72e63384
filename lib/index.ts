/** What other stacks import from Gatehouse: the resource-server authorizer, and the Gatehouse stack and its constructs. */
export { GatehouseAuthorizer, type GatehouseAuthorizerProps } from './gatehouse-authorizer.js';
export { GatehouseStack, type GatehouseStackProps } from './gatehouse-stack.js';
export { ClientSecrets, type ClientSecretsProps } from './client-secrets.js';
export { LifecycleSweep, type LifecycleSweepProps } from './lifecycle-sweep.js';
export type { ClientSecretsAccess } from './handler-functions.js';
export { GatehouseApi, type GatehouseApiProps, STAGE_NAME } from './api.js';
export { ApiFirewall, type ApiFirewallProps, type WafBodyLimitKiB } from './api-firewall.js';
export { type RouteThrottling, type ThrottleLimits } from './api-throttling.js';
export { AlarmTopic, type AlarmTopicProps } from './alarm-topic.js';
export { OperationalAlarms, type OperationalAlarmsProps } from './operational-alarms.js';
export { ApplicationAlarms, type ApplicationAlarmsProps } from './application-alarms.js';
export { GatehouseDashboard, type GatehouseDashboardProps } from './dashboard.js';
export { ManagedPolicyRole, type ManagedPolicyRoleProps } from './managed-policy-role.js';
export { AUTHORIZER, FUNCTIONS, SIGNING_KEY_INIT, SIGNING_KEY_ROTATION, type Capability, type FunctionSpec } from '../lambdas/contracts/functions.js';
export { ROUTES, type HttpHandlerName, type Route } from '../lambdas/contracts/routes.js';
