import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Repository root (this file sits at packages/inference/{src,dist}/paths.*). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The committed models directory (`models/`). */
export const DEFAULT_MODELS_DIR = join(REPO_ROOT, 'models');
/** The public-domain training text of the char LM. */
export const DEFAULT_CORPUS_PATH = join(REPO_ROOT, 'models', 'data', 'charlm-corpus.txt');
