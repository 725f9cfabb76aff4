export * from './errors';
export * from './images';
export * from './processes';
export * from './registry';
export * from './webhook-recorder';
