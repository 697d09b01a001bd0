export { Store, DurableCallback } from './store';
export { StoreError, DB_FILE_NAME } from './db';
export * from './types';
