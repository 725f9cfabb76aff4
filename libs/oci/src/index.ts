export * from './chain-id';
export * from './descriptor';
export * from './digest';
export * from './errors';
export * from './image-config';
export * from './manifest';
export * from './media-types';
export * from './reference';
