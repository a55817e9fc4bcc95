/**
 * The systemd unit that runs watch (systemd/k3s-hostprep-watch.service is this text for the
 * default binary path; a test holds the two equal). install writes it when watch.enabled is true.
 */
import type { FileSpec } from '../controls/managed.js';
import { publicAncestorMode } from '../controls/paths.js';

export const WATCH_UNIT_NAME = 'k3s-hostprep-watch.service';
export const DEFAULT_BINARY = '/usr/local/bin/k3s-hostprep';

/** Directories remediation and the metrics file may write; "-" because any of them may be absent. */
export const WATCH_WRITABLE = ['/etc/sysctl.d', '-/var/lib/rancher', '-/var/lib/node_exporter', '-/var/lib/prometheus', '-/run/node_exporter', '-/var/lib/k3s-hostprep'] as const;

export function renderWatchUnit(binary: string = DEFAULT_BINARY): string {
  return `[Unit]
Description=k3s-hostprep drift watch: re-verifies the K3s host hardening and logs drift
After=local-fs.target k3s-hostprep.service
ConditionPathExists=${binary}

[Service]
# simple: the process is the service. Node cannot send sd_notify without starting a helper process.
Type=simple
ExecStart=${binary} watch
# A daemon that allocates a little per cycle needs no large young generation; keeps RSS flat.
Environment=NODE_OPTIONS=--max-semi-space-size=1
Restart=on-failure
RestartSec=5s
# SIGTERM ends it within a second.
TimeoutStopSec=5s
SyslogIdentifier=k3s-hostprep-watch
# Sandboxing as for the boot unit. /proc/sys stays writable (no ProtectKernelTunables) because
# watch.remediate re-applies kernel parameters; ProtectSystem=strict leaves /proc writable.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${WATCH_WRITABLE.join(' ')}
# The run lock shared with apply (/run/k3s-hostprep/apply.lock); kept when the unit stops, so
# that a lock file another run holds is never unlinked under it.
RuntimeDirectory=k3s-hostprep
RuntimeDirectoryMode=0700
RuntimeDirectoryPreserve=yes
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateNetwork=yes
ProtectControlGroups=yes
ProtectKernelModules=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}

export const WATCH_UNIT_PATH = `/etc/systemd/system/${WATCH_UNIT_NAME}`;

/**
 * The unit as a file k3s-hostprep owns: install plans and applies it with the managed-file rules
 * (planFile / applyChanges), then runs systemctl daemon-reload and enable --now.
 */
export function watchUnitFileSpec(binary: string = DEFAULT_BINARY): FileSpec {
  return { path: WATCH_UNIT_PATH, body: renderWatchUnit(binary), mode: 0o644, parent: { path: '/etc/systemd/system', mode: 0o755, ancestorMode: publicAncestorMode, enforce: false } };
}
