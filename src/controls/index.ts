/** Every control that ships, in the order they are applied. */
import { auditPolicy } from './audit-policy.js';
import { directories } from './directories.js';
import { kernelParameters } from './kernel-parameters.js';
import { kernelPersistence } from './kernel-persistence.js';
import type { Control } from './types.js';

export const CONTROLS: readonly Control[] = [kernelParameters, kernelPersistence, directories, auditPolicy];
