export * from './base-selection';
export * from './freshness.types';
export * from './release-labels';
export * from './verdict';
