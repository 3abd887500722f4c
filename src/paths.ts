/** Where the project's files are, whether run from src/ (tsx) or dist/ (built). */
import { resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');
