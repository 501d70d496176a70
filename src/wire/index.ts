export * from './frame';
export * from './header';
export * from './packed';
