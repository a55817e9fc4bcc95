/** The admission configuration validator the agent ships (src/k3s/admission.ts), for the tests of psa.yaml. */
export { validateAdmissionConfiguration } from '../../src/k3s/admission.js';
