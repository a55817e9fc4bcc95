import { EXIT } from '../errors.js';
import { command } from './command.js';
import { openHost, readConfigText } from './context.js';
import { CONFIG, withHelp } from './options.js';

export const validate = command({
  name: 'validate',
  summary: 'validate a configuration file; changes nothing',
  description: `Reads and validates the configuration as apply would, and changes nothing: exit 0 when it is valid (or
when there is no file: the defaults apply), 2 with every problem, naming the file and the key, when not.`,
  options: { config: withHelp(CONFIG, 'the file to validate (default /etc/k3s-hostprep/config.yaml)') },
  async run({ values }, io) {
    const { file, text } = await readConfigText(openHost(undefined), values.config);
    if (file === null || text === null) {
      io.out.write('no configuration file at /etc/k3s-hostprep/config.yaml: the defaults apply\n');
      return EXIT.compliant;
    }
    const { parseConfig } = await import('../config/load.js');
    parseConfig(text, file);
    io.out.write(`${file}: valid\n`);
    return EXIT.compliant;
  },
});
