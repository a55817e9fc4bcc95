/**
 * The benchmark's minimums for the API server's audit log retention (CIS 1.2.20-1.2.22,
 * kube-bench cfg/k3s-cis-1.24/master.yaml: audit-log-maxage gte 30, audit-log-maxbackup gte 10,
 * audit-log-maxsize gte 100). The configuration refuses less, and the benchmark checks judge by them.
 */
export const AUDIT_MINIMUMS = { logMaxAge: 30, logMaxBackup: 10, logMaxSize: 100 } as const;
