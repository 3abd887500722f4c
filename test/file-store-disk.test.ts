import { DiskFileStore } from '../src/files/disk.js';
import { fileStoreContract } from './file-store.contract.js';
import { tempDir } from './helpers.js';

fileStoreContract('DiskFileStore', async (t) => DiskFileStore.open(tempDir(t)));
