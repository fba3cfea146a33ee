import { OperatorSessions1732000000302 } from './1732000000302-operator-sessions';

/** The console's sessions and failed sign-ins (`libs/platform/src/operator-sessions`). */
export const OPERATOR_SESSION_MIGRATIONS = [OperatorSessions1732000000302];
