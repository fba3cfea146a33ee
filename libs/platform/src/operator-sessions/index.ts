export {
  DEFAULT_OPERATOR_SESSION_POLICY,
  OperatorSessions,
  type OpenedSession,
  type OperatorSession,
  type OperatorSessionPolicy,
  type SessionFlash,
  type SignInThrottle,
} from './operator-sessions';
export { OPERATOR_SESSION_MIGRATIONS } from './migrations';
