/** Every control that ships, in the order they are applied. */
import { auditPolicy } from './audit-policy.js';
import { benchmark } from './benchmark.js';
import { directories } from './directories.js';
import { k3sConfig } from './k3s-config.js';
import { kernelParameters } from './kernel-parameters.js';
import { kernelPersistence } from './kernel-persistence.js';
import { networkPolicy } from './network-policy.js';
import { podSecurity } from './pod-security.js';
import type { Control } from './types.js';

export const CONTROLS: readonly Control[] = [kernelParameters, kernelPersistence, directories, auditPolicy, networkPolicy, podSecurity, k3sConfig, benchmark];
