export * from './dim';
export * from './shape';
export * from './errors';
