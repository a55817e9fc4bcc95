import { ARTEFACTS, findArtefact, renderArtefact } from '../artefacts.js';
import { FULL_RELEASE, renderCloudInit } from '../cloud-init.js';
import { EXIT, UsageError } from '../errors.js';
import { needsAdmissionConfig } from '../k3s/settings.js';
import { command } from './command.js';
import { openHost, prepare, readConfigText } from './context.js';
import { AGENT_SHA256, AGENT_URL, K3S_INSTALLER_SHA256 } from './options.js';
import { HOST_OPTIONS } from './report-run.js';

export const render = command({
  name: 'render',
  summary: 'print one generated file, or a #cloud-config for new nodes',
  operands: '<artefact>',
  maxOperands: 1,
  description: () => `Prints one generated file to standard output, exactly as apply writes it. Artefacts:
${ARTEFACTS.map((a) => `  ${a.name.padEnd(18)} ${a.description}`).join('\n')}
  ${'cloud-init'.padEnd(18)} a #cloud-config: installs k3s-hostprep, runs apply, and only then installs K3s

cloud-init needs --agent-url and --agent-sha256. A full --k3s-version such as v1.30.4+k3s1, or the config's,
pins the release the K3s installer installs, and is written into the configuration the node gets, so that
its first apply prepares for that release; otherwise the installer installs the stable channel.`,
  options: { agentUrl: AGENT_URL, agentSha256: AGENT_SHA256, k3sInstallerSha256: K3S_INSTALLER_SHA256, ...HOST_OPTIONS },
  async run({ values, positionals }, io) {
    const name = positionals[0];
    const names = [...ARTEFACTS.map((a) => a.name), 'cloud-init'];
    if (name === undefined) throw new UsageError(`render: missing artefact; expected one of ${names.join(', ')} (see k3s-hostprep render --help)`);
    const host = openHost(values.root);
    if (name !== 'cloud-init' && (values.agentUrl ?? values.agentSha256 ?? values.k3sInstallerSha256) !== undefined)
      throw new UsageError('render: --agent-url, --agent-sha256 and --k3s-installer-sha256 are for render cloud-init only');
    const artefact = findArtefact(name);
    if (name !== 'cloud-init' && !artefact) {
      throw new UsageError(`render: unknown artefact "${name}"; expected one of ${names.join(', ')} (see k3s-hostprep render --help)`);
    }
    // The configuration may be for other machines (cloud-init): extra sysctl keys are not judged against this kernel.
    const { ctx, roleChoice } = await prepare(host, values, false, false);
    if (name === 'cloud-init') {
      // The release the K3s installer installs: --k3s-version, else the config's when it names one release.
      const fromConfig = ctx.config.k3sVersion !== undefined && FULL_RELEASE.test(ctx.config.k3sVersion) ? ctx.config.k3sVersion : undefined;
      const pinned = values.k3sVersion ?? fromConfig;
      // The configuration the node gets is the one this run validated, read once through the same guard.
      const { text } = await readConfigText(host, values.config);
      io.out.write(
        renderCloudInit({
          role: roleChoice.role,
          configText: text,
          agentUrl: values.agentUrl!,
          agentSha256: values.agentSha256!,
          ...(pinned !== undefined ? { k3sVersion: pinned } : {}),
          ...(values.k3sInstallerSha256 !== undefined ? { k3sInstallerSha256: values.k3sInstallerSha256 } : {}),
        }),
      );
      return EXIT.compliant;
    }
    if (artefact!.name === 'psa' && !needsAdmissionConfig(ctx.config, ctx.k3s.version)) {
      throw new UsageError(
        `render psa: K3s ${ctx.k3s.version.text} (${ctx.k3s.source}) gets no psa.yaml: Pod Security admission starts with v1.25 and eventRateLimit is not configured`,
      );
    }
    io.out.write(renderArtefact(artefact!, ctx));
    return EXIT.compliant;
  },
});
