export * from './frame';
export * from './header';
