/** The packaged components K3s can leave out (k3s server --disable; pkg/cli/cmds/server.go). */
export const K3S_COMPONENTS = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'] as const;
export type K3sComponent = (typeof K3S_COMPONENTS)[number];
