/**
 * The real PostgreSQL and Redis of the test machine, and a unique Redis prefix per test so tests
 * never see each other's keys.
 */
import { randomBytes } from 'node:crypto';

export const TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

export const testPrefix = () => `roomchat-test-${randomBytes(5).toString('hex')}:`;
