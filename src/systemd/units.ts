/**
 * The systemd units k3s-hostprep ships, and where `install` puts them. The files under
 * systemd/ in the source tree are these texts as install writes them (a test keeps them equal).
 * Pure.
 */
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
 * (write paths, network, capabilities, kernel tunables).
 */
const SANDBOX = `UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native`;

/**
 * What a run that changes the host (apply, and watch's remediation) needs on top: /proc/sys
 * stays writable (no ProtectKernelTunables=), no network, and the capabilities to write, chown
 * and chmod root's files and the kernel's values.
 */
const WRITER = `PrivateNetwork=yes
RestrictAddressFamilies=AF_UNIX
CapabilityBoundingSet=CAP_SYS_ADMIN CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH`;

/**
 * The gate: runs apply before K3s and, through RequiredBy=, keeps K3s from starting when the
 * host cannot be made compliant. It writes /etc/sysctl.d, K3s' directories under
 * /var/lib/rancher and /etc/rancher, and the kernel's values under /proc/sys; everything else is
 * read-only to it. A ReadWritePaths= entry must exist when the sandbox is set up, so the
 * directories apply writes into are optional there ("-") and are created by ExecStartPre=,
 * outside the sandbox ("+"), before apply's sandbox is made.
 */
const GATE = `[Unit]
Description=k3s-hostprep: prepare and verify this host before K3s starts
After=systemd-sysctl.service local-fs.target
Before=k3s.service k3s-agent.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStartPre=+/bin/mkdir -p -m 0755 /etc/sysctl.d /var/lib/rancher /etc/rancher
ExecStart=${BIN_PATH} apply
TimeoutStartSec=5min
ReadWritePaths=-/etc/sysctl.d -/var/lib/rancher -/etc/rancher /run
${SANDBOX}
${WRITER}

[Install]
RequiredBy=k3s.service k3s-agent.service
WantedBy=multi-user.target
`;

/**
 * CIS 5.1.5 after K3s is up: the default ServiceAccount of every namespace stops mounting an API
 * token. Only servers have the admin kubeconfig; elsewhere the condition skips the run.
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
ProtectKernelTunables=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
CapabilityBoundingSet=CAP_DAC_READ_SEARCH
`;

/** Directories watch's remediation and the metrics file may write; "-" because any of them may be absent. */
export const WATCH_WRITABLE = ['/etc/sysctl.d', '-/var/lib/rancher', '-/var/lib/node_exporter', '-/var/lib/prometheus', '-/run/node_exporter', '-/var/lib/k3s-hostprep'] as const;

/**
 * The drift watch. simple: the process is the service (Node cannot send sd_notify without
 * starting a helper process); SIGTERM ends it within a second. The run lock it shares with apply
 * lives in its RuntimeDirectory, kept when the unit stops so that a lock file another run holds
 * is never unlinked under it. A small young generation keeps RSS flat for a daemon that
 * allocates a little per cycle. Remediation does what apply does, so it is sandboxed as a writer.
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
ReadWritePaths=${WATCH_WRITABLE.join(' ')}
RuntimeDirectory=k3s-hostprep
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
${SANDBOX}
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
