export * from './base-selection';
export * from './freshness.types';
export * from './verdict';
