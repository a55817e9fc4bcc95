import test from 'ava';
import { execStart, splitCommandLine, unitFlags } from '../../src/k3s/unit-flags.js';

const INSTALLER_UNIT = `[Unit]
Description=Lightweight Kubernetes
[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
ExecStartPre=/bin/sh -xc '! /usr/bin/systemctl is-enabled --quiet nm-cloud-setup.service 2>/dev/null'
ExecStart=/usr/local/bin/k3s \\
    server \\
\t'--disable' \\
\t'traefik' \\
\t'--kube-apiserver-arg' \\
\t'audit-log-maxage=5' \\
\t'--protect-kernel-defaults' \\
\t'--node-name=n1' \\
`;

test('ExecStart is read as systemd reads it: continuations joined, quotes removed', (t) => {
  t.is(
    execStart(INSTALLER_UNIT)?.replace(/\s+/g, ' ').trim(),
    "/usr/local/bin/k3s server '--disable' 'traefik' '--kube-apiserver-arg' 'audit-log-maxage=5' '--protect-kernel-defaults' '--node-name=n1'",
  );
  t.deepEqual(splitCommandLine(`a 'b c' "d \\" e" f\\ g`), ['a', 'b c', 'd " e', 'f g']);
  t.is(execStart('[Service]\nExecStart=/bin/k3s server\nExecStart=\n'), null, 'an empty ExecStart= resets');
});

test("K3s flags on the unit's command line become a source after the files: lists append, the rest replace", (t) => {
  const flags = unitFlags(INSTALLER_UNIT, 'k3s.service (ExecStart)');
  t.deepEqual(flags?.entries, [
    { key: 'disable', append: true, value: ['traefik'] },
    { key: 'kube-apiserver-arg', append: true, value: ['audit-log-maxage=5'] },
    { key: 'protect-kernel-defaults', append: false, value: 'true' },
    { key: 'node-name', append: false, value: 'n1' },
  ]);
  t.is(unitFlags('[Service]\nExecStart=/usr/bin/true\n', 'x'), null);
  t.deepEqual(unitFlags('[Service]\nExecStart=/usr/local/bin/k3s agent --protect-kernel-defaults=false --kubelet-arg=max-pods=200\n', 'x')?.entries, [
    { key: 'protect-kernel-defaults', append: false, value: 'false' },
    { key: 'kubelet-arg', append: true, value: ['max-pods=200'] },
  ]);
});
