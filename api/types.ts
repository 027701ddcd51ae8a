import type { Logger } from '../platform/logger';

export interface AppEnv {
  Variables: { requestId: string; log: Logger };
}
