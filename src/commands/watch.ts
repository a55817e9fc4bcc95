import { EXIT, HostError } from '../errors.js';
import { journalStream } from '../host/journal-stream.js';
import { watch as watchLoop } from '../watch/loop.js';
import { command } from './command.js';
import { openHost, prepare } from './context.js';
import { BENCHMARK, CONFIG, K3S_VERSION, ROLE } from './options.js';

export const watch = command({
  name: 'watch',
  summary: 're-verify at an interval and on change; log drift',
  description: `Verifies every control every watch.interval seconds (default 60) and soon after a change under the sysctl.d
directories, /etc/sysctl.conf, /etc/rancher/k3s and the files and directories k3s-hostprep manages. Logs one
line per change of state (control, CIS number, expected, actual, since when) on standard error, with syslog
priority prefixes when that is the journal. With watch.remediate: true in the configuration it re-applies the
control that drifted, and only that one (must run as root). With metrics.textfilePath it rewrites the
node_exporter textfile after every cycle. Runs until SIGTERM or SIGINT; restart it after changing the config.`,
  options: { config: CONFIG, role: ROLE, k3sVersion: K3S_VERSION, benchmark: BENCHMARK },
  async run({ values }, io) {
    const { ctx, roleChoice } = await prepare(openHost(undefined), values);
    if (ctx.config.watch.remediate && ctx.host.euid !== 0) throw new HostError('watch with watch.remediate: true must run as root');
    const controller = new AbortController();
    const stop = (signal: NodeJS.Signals) => controller.abort(signal);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    try {
      await watchLoop({
        ctx,
        roleChoice,
        intervalMs: ctx.config.watch.interval * 1000,
        remediate: ctx.config.watch.remediate,
        ...(ctx.config.metrics.textfilePath !== undefined ? { metricsPath: ctx.config.metrics.textfilePath } : {}),
        signal: controller.signal,
        log: (text) => io.err.write(text),
        prefix: journalStream(),
      });
      return EXIT.compliant;
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
  },
});
