export * from './api-key-secret';
export * from './domain-error';
export * from './logger';
export * from './root-logger.module';
export * from './metrics';
