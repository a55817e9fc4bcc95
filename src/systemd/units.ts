/**
 * The systemd units k3s-hostprep ships, and where `install` puts them. The files under
 * systemd/ in the source tree are these texts as install writes them (a test keeps them equal).
 * Pure.
 */
import { METRICS_DIRS } from '../config/schema.js';
import { renderManaged, type FileSpec } from '../controls/managed.js';
import { publicAncestorMode } from '../k3s/paths.js';

export const BIN_PATH = '/usr/local/bin/k3s-hostprep';
export const UNIT_DIR = '/etc/systemd/system';

export const GATE_UNIT = 'k3s-hostprep.service';
export const SA_SERVICE_UNIT = 'k3s-hostprep-service-accounts.service';
export const SA_TIMER_UNIT = 'k3s-hostprep-service-accounts.timer';
export const WATCH_UNIT_NAME = 'k3s-hostprep-watch.service';

/**
 * The sandbox every k3s-hostprep service shares; each unit adds what its work needs on top
 * (write paths, network, capabilities, kernel tunables). What `systemd-analyze security` asks
 * for and the jobs allow: no new privileges, a read-only system, no home directories, private
 * /tmp, devices, IPC and mounts, no kernel modules, logs, clock or hostname, no namespaces or
 * realtime or set-id files, only the native system-call ABI and the system calls a service
 * uses (@system-service; anything else fails with EPERM instead of killing the run), and no
 * IP traffic at all unless a unit allows some. Left out, because they break the jobs:
 * MemoryDenyWriteExecute= (V8's JIT maps writable code), PrivateUsers= (root in a user
 * namespace cannot write root's files), User= (every job reads or writes root's files).
 */
const SANDBOX = `UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
PrivateMounts=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@resources @obsolete
SystemCallErrorNumber=EPERM
IPAddressDeny=any`;

/** Where the configuration may send the metrics file; "-": any of them may be absent. */
const METRICS_WRITABLE = METRICS_DIRS.map((dir) => `-${dir}`);

/**
 * Every directory a run that changes the host writes: the sysctl.d file, K3s' files under
 * /var/lib/rancher and /etc/rancher, the metrics file. "-": a path that does not exist when the
 * sandbox is made is left out instead of failing the unit; ExecStartPre= (below) creates the
 * first three beforehand.
 */
export const WRITER_WRITABLE: readonly string[] = ['-/etc/sysctl.d', '-/var/lib/rancher', '-/etc/rancher', ...METRICS_WRITABLE];

/**
 * What a run that changes the host (apply, and watch's remediation) needs on top of the
 * sandbox. It stays in the host's network namespace, because net.* keys of the configuration's
 * sysctl: are per network namespace and must reach the host's (PrivateNetwork= would give it a
 * throw-away one, where a write "succeeds" and changes nothing K3s sees); it opens no socket but
 * AF_UNIX (the pipes to sysctl and flock) and IPAddressDeny= drops any IP packet. /proc/sys stays
 * writable (no ProtectKernelTunables=). The run lock lives in its own directory under /run.
 * Capabilities, each for a reason: CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE to read and write
 * files whatever their mode (a 0600 drop-in of another user, a metrics directory owned by
 * node_exporter's user), CAP_CHOWN and CAP_FOWNER to give the directories it owns back to
 * root:root 0700, CAP_NET_ADMIN because the kernel asks for it to write some net.* keys
 * (net.ipv4.ip_forward: devinet_sysctl_forward). Not CAP_SYS_ADMIN: it would let a compromised
 * run remount and undo ProtectSystem=; the six kernel keys need uid 0 only. Keys that only
 * CAP_SYS_ADMIN may write (kernel.kptr_restrict, kernel.dmesg_restrict, ...) belong in a file of
 * the operator's own, applied by systemd-sysctl at boot.
 */
const WRITER = `ExecStartPre=+/bin/mkdir -p -m 0755 /etc/sysctl.d /var/lib/rancher /etc/rancher
ReadWritePaths=${WRITER_WRITABLE.join(' ')}
RuntimeDirectory=k3s-hostprep
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
${SANDBOX}
RestrictAddressFamilies=AF_UNIX
CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_NET_ADMIN`;

/**
 * The gate: runs apply before K3s and, through RequiredBy=, keeps K3s from starting when the
 * host cannot be made compliant. It writes /etc/sysctl.d, K3s' directories under
 * /var/lib/rancher and /etc/rancher, the metrics file and the kernel's values under /proc/sys;
 * everything else is read-only to it. A ReadWritePaths= entry must exist when the sandbox is
 * set up, so the directories apply writes into are created by ExecStartPre=, outside the
 * sandbox ("+"), before apply's sandbox is made. The run lock's directory is kept when the unit
 * stops, so that a lock file the watch holds is never unlinked under it.
 */
const GATE = `[Unit]
Description=k3s-hostprep: prepare and verify this host before K3s starts
After=systemd-sysctl.service local-fs.target
Before=k3s.service k3s-agent.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${BIN_PATH} apply
TimeoutStartSec=5min
${WRITER}

[Install]
RequiredBy=k3s.service k3s-agent.service
WantedBy=multi-user.target
`;

/**
 * CIS 5.1.5 after K3s is up: the default ServiceAccount of every namespace stops mounting an API
 * token. Only servers have the admin kubeconfig; elsewhere the condition skips the run. It reads
 * root's kubeconfig and talks to the API server on this node (K3s' kubeconfig names
 * 127.0.0.1), so it keeps no capability, no kernel tunables and no IP traffic but to localhost.
 * Its PrivateUsers= makes every other user nobody: root still owns root's 0600 kubeconfig, and
 * the certificates K3s wrote 0644 under server/tls (kube-bench 1.1.20), which this run tightens
 * to 0600 as their owner: that directory is its one write path (optional: agents have none).
 */
const SA_SERVICE = `[Unit]
Description=k3s-hostprep: default service accounts do not mount API tokens (CIS 5.1.5)
After=k3s.service network-online.target
ConditionPathExists=/etc/rancher/k3s/k3s.yaml

[Service]
Type=oneshot
ExecStart=${BIN_PATH} service-accounts
Environment=KUBECACHEDIR=/tmp/kube-cache
TimeoutStartSec=10min
${SANDBOX}
IPAddressAllow=localhost
ReadWritePaths=-/var/lib/rancher/k3s/server/tls
PrivateUsers=yes
ProtectKernelTunables=yes
ProcSubset=pid
SystemCallFilter=~@privileged
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=
`;

/**
 * The drift watch. simple: the process is the service (Node cannot send sd_notify without
 * starting a helper process); SIGTERM ends it within a second. Remediation does what apply
 * does, so it is sandboxed exactly as the gate: it may write what apply writes, and nothing
 * else. A small young generation keeps RSS flat for a daemon that allocates a little per cycle.
 */
const WATCH = `[Unit]
Description=k3s-hostprep drift watch: re-verifies the K3s host hardening and logs drift
After=local-fs.target k3s-hostprep.service
ConditionPathExists=${BIN_PATH}

[Service]
Type=simple
ExecStart=${BIN_PATH} watch
Environment=NODE_OPTIONS=--max-semi-space-size=1
Restart=on-failure
RestartSec=5s
TimeoutStopSec=5s
SyslogIdentifier=k3s-hostprep-watch
${WRITER}

[Install]
WantedBy=multi-user.target
`;

/** Runs the service-accounts step soon after boot and then every ten minutes, for namespaces created later. */
const SA_TIMER = `[Unit]
Description=k3s-hostprep: keep default service accounts without API tokens (CIS 5.1.5)

[Timer]
OnBootSec=2min
OnUnitActiveSec=10min
RandomizedDelaySec=30s

[Install]
WantedBy=timers.target
`;

export interface UnitFile {
  name: string;
  body: string;
  /** Directories of symlinks `systemctl enable` creates, relative to UNIT_DIR. */
  enableIn: string[];
  /** Whether install enables it (the service-accounts service is started by its timer). */
  enable: boolean;
}

export const UNITS: readonly UnitFile[] = [
  { name: GATE_UNIT, body: GATE, enableIn: ['k3s.service.requires', 'k3s-agent.service.requires', 'multi-user.target.wants'], enable: true },
  { name: SA_SERVICE_UNIT, body: SA_SERVICE, enableIn: [], enable: false },
  { name: SA_TIMER_UNIT, body: SA_TIMER, enableIn: ['timers.target.wants'], enable: true },
];

/** A unit file exactly as install writes it. */
export function renderUnit(unit: UnitFile): string {
  return renderManaged(unit.body);
}

export function unitPath(name: string): string {
  return `${UNIT_DIR}/${name}`;
}

/** The drift watch: installed only when the configuration says watch.enabled: true. */
export const WATCH_UNIT: UnitFile = { name: WATCH_UNIT_NAME, body: WATCH, enableIn: ['multi-user.target.wants'], enable: true };

/** A unit as a file k3s-hostprep owns, for install (planFile / applyChanges) and render. */
export function unitFileSpec(unit: UnitFile): FileSpec {
  return { path: unitPath(unit.name), body: unit.body, mode: 0o644, parent: { path: UNIT_DIR, mode: 0o755, ancestorMode: publicAncestorMode, enforce: false } };
}

/** The symlinks `systemctl enable` makes for the units install enables: link path to target. */
export function enableLinks(units: readonly UnitFile[] = UNITS): Array<{ link: string; target: string }> {
  return units.flatMap((u) => u.enableIn.map((dir) => ({ link: `${UNIT_DIR}/${dir}/${u.name}`, target: unitPath(u.name) })));
}
